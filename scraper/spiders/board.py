"""The board spider: walks each board's list pages from the first until it reaches posts
already stored, then yields one `BoardWalk` item per board. One crawl walks many boards, so
boards on one site share its politeness budget (concurrency, delay) and one robots.txt.

It only parses and yields; what is "stored" it learns through `lookup`, a callable the caller
hands in, so the spider never touches the database itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

from scrapy import Request, Spider, signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from scraper.detail import is_alert_page, read_detail, shows, with_details
from scraper.encoding import decode
from scraper.errors import CrawlError
from scraper.failures import Words, in_words
from scraper.items import BoardTask, BoardWalk, KnownPost, Lookup, Row, WalkEnd
from scraper.keys import Key, page_id, site_of
from scraper.middlewares import ORIGINS
from scraper.origins import shown
from scraper.pager import paging_for
from scraper.parse import ListPage, board_title, choose, read_list
from scraper.profiles import Profile
from scraper.robots import ROBOTS_SITE, Disallowed, on_site
from scraper.text import tree
from scraper.vocabulary import Vocabulary, any_board, vocabulary
from scraper.walk import (
    Entry,
    Failed,
    Listing,
    Page,
    Refused,
    Step,
    Walk,
    asks,
    step,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

Out = Request | BoardWalk
Output = Iterator[Out]


@dataclass
class _Walk:
    """The spider's bookkeeping for one board's walk; where the walk goes is `state`'s."""

    task: BoardTask
    profile: Profile
    state: Walk
    rows: dict[str, Row] = field(default_factory=dict)  # kept rows, in the board's order
    vague_dates: set[str] = field(default_factory=set)  # keys whose list date had no year
    warnings: dict[str, str] = field(default_factory=dict)  # what it was built from -> warning
    heading: str = ""  # the board's name as page 1 shows it (read for a probe)
    paging: str = ""  # how its pages turn, as page 1 shows it (read for a probe)
    fetched: float | None = None  # when its first list page answered (monotonic clock)
    details_pending: int = 0
    yielded: bool = False
    reading: bool = False  # a page of it is being read (it may wait for the store)
    waiting: dict[int, Response | CrawlError] = field(default_factory=dict)  # fetched ahead

    @property
    def end(self) -> WalkEnd | None:
        return self.state.end

    @property
    def words(self) -> Vocabulary:
        """What its profile reads a page with (resolved once per profile)."""
        return vocabulary(self.profile)

    @property
    def pages(self) -> int:
        return self.state.pages

    def rekey(self, path: str, key: str | None) -> str | None:
        """The row listed under `path` is the post `key` (None: its page carries no id, so the
        path stays its key). Returns the row's key; None when the walk has it under its id.
        A row this walk lists under that id with another title is another post: both stay."""
        row = Row(**self.rows[path])
        key = key or path
        if key != path and key in self.rows:  # listed twice: under its id, and its path?
            if self.rows[key]["title"] != row["title"]:
                self.conflict(
                    path, key, f"this walk lists post {key} as {self.rows[key]['title']!r}"
                )
                return path
            del self.rows[path]
            self.rows[key]["notice"] = self.rows[key]["notice"] or row["notice"]
            return None
        row["alias"] = path
        row["key"] = key
        self.rows = {
            (key if k == path else k): (row if k == path else v) for k, v in self.rows.items()
        }
        return key

    def conflict(self, path: str, key: str, why: str) -> None:
        """A post page claims an id that is another post's: the row stays a post of its own."""
        self.warnings[f"claims {path}"] = (
            f"the post page of {self.rows[path]['url']} says it is post {key}, but {why}; "
            "both are kept as posts of their own"
        )

    def unidentified(self, path: str) -> None:
        """A row linked by a path whose page did not answer (a timeout, a server error): kept
        out of this walk — stored under its path it could be a post sent twice — and read again
        by the next run."""
        self.rows.pop(path, None)

    def doubt(self, key: str, url: str, answer: str) -> None:
        """A post page at an address we built does not answer as that post's page."""
        built = self.state.built[key]
        self.warnings.setdefault(
            built,
            f"post links built from {built} lead nowhere: {url} {answer}, so digests would "
            f"link to a page that is not the post; a [profiles.NAME] with `link = ...` "
            f"(the post page's address with {{key}}) says where posts live",
        )

    def stop(self, end: WalkEnd, error: CrawlError | None = None) -> None:
        self.state = self.state._replace(end=end, error=error)

    def item(self) -> BoardWalk | None:
        """The walk's item, once: when its list walk ended and no post page is outstanding."""
        if self.yielded or self.end is None or self.details_pending:
            return None
        self.yielded = True
        task, state = self.task, self.state
        rows = () if self.end is WalkEnd.REFUSED else tuple(self.rows.values())
        if state.elsewhere:
            self.warnings["elsewhere"] = _elsewhere(state.elsewhere)
        return BoardWalk(
            board=task.name,
            rows=rows,
            end=self.end,
            pages=self.pages,
            baseline=task.baseline,
            backfill=task.backfill,
            error=state.error,
            profile=self.profile.name,
            warnings=tuple(self.warnings.values()),
            heading=self.heading,
            listed=state.seen,
            paging=self.paging,
            origins=task.origins,
            fetched=self.fetched,
        )


class BoardSpider(Spider):
    name = "boards"

    def __init__(self, tasks: Sequence[BoardTask], lookup: Lookup, **kwargs: Any) -> None:
        """robots.txt is Scrapy's middleware's (`scraper.robots`): what it decides for a site
        reaches `robots_parsed` before any of the site's pages is read."""
        super().__init__(**kwargs)
        self._walks = {task.name: _Walk(task, task.profile, Walk(task)) for task in tasks}
        self._lookup = lookup
        self._robots: dict[str, RobotParser] = {}  # site -> its rules (none: all allowed)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        return spider

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        self._robots[request.meta[ROBOTS_SITE]] = robotparser

    async def start(self) -> AsyncIterator[Request | BoardWalk]:
        # a board not yet due waits for its moment (the daemon's claim): the others go at once
        for walk in sorted(self._walks.values(), key=lambda walk: walk.task.not_before):
            if (wait := walk.task.not_before - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            try:
                _requestable(walk.task)
            except CrawlError as error:  # that board alone fails
                walk.stop(WalkEnd.FAILED, error)
                for item in self.finish(walk):
                    yield item
                continue
            yield self.list_request(walk, 1, walk.task.url)

    def words(self, error: BaseException | None, url: str) -> Words:
        settings = getattr(self, "settings", None)
        timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 180) if settings else 180.0
        size = settings.getint("DOWNLOAD_MAXSIZE", 0) if settings else 0
        return in_words(error or Exception("failed"), url, timeout=timeout, max_size=size)

    def allowed(self, walk: _Walk, url: str) -> bool:
        """robots.txt's word on `url`: its board's site's rules, on that site only."""
        site = site_of(walk.task.url)
        if not walk.task.obey_robots or not on_site(url, site):
            return True
        rules = self._robots.get(site)
        return rules is None or rules.allowed(url, walk.task.user_agent)

    def list_request(self, walk: _Walk, page: int, url: str) -> Request:
        return Request(
            url,
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"board": walk.task.name, "page": page},
            meta=_meta(walk.task),
            dont_filter=True,
        )

    async def list_failed(self, failure: Failure) -> list[Out]:
        request = failure.request  # type: ignore[attr-defined]
        walk, page = self._walks[request.cb_kwargs["board"]], request.cb_kwargs["page"]
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # as asked, before redirects
        if page == 1 and isinstance(failure.value, Disallowed):
            walk.stop(WalkEnd.ROBOTS, CrawlError(walk.task.name, url, WalkEnd.ROBOTS.value))
            return list(self.finish(walk))
        words = self.words(failure.value, url)
        message = f"list page {url} failed: {words.cause}"
        error = CrawlError(walk.task.name, url, message, words.hint)
        return await self.in_order(walk, page, error)

    async def parse_list(self, response: Response, board: str, page: int) -> list[Out]:
        walk = self._walks[board]
        if page == 1:  # the board's crawl is when its own list page answered
            walk.fetched = time.monotonic()
        return await self.in_order(walk, page, response)

    async def in_order(self, walk: _Walk, page: int, got: Response | CrawlError) -> list[Out]:
        """Pages fetched ahead arrive in any order; they are read in the board's order, and
        those that arrive after the walk ended (caught up two pages early) are dropped. While a
        page waits for the store, pages arriving meanwhile are read after it, by its call."""
        out: list[Out] = []
        if walk.end is not None:
            return out
        walk.waiting[page] = got
        if walk.reading:
            return out
        walk.reading = True
        try:
            while walk.end is None and walk.pages + 1 in walk.waiting:
                page = walk.pages + 1
                got = walk.waiting.pop(page)
                read, listed = self.list_page(walk, got, page)
                stored = None
                if listed is not None and asks(walk.state, read):
                    board, paths = walk.task.name, listed.paths
                    stored = self._lookup.known(board, listed.keys, paths)
                    if stored is None:  # a post not read ahead: ask the store, off the reactor
                        stored = await asyncio.to_thread(self._lookup, board, listed.keys, paths)
                state, done = step(walk.state, read, stored, lambda url: self.allowed(walk, url))
                out.extend(self.follow(walk, state, done))
                if stored is not None and listed is not None:
                    walk.vague_dates |= listed.vague_dates
        finally:
            walk.reading = False
        if walk.end is not None:
            walk.waiting.clear()
        return out

    def list_page(
        self, walk: _Walk, got: Response | CrawlError, page: int
    ) -> tuple[Page, ListPage | None]:
        """A list page as the walk takes it (and as it was read, when it was)."""
        if isinstance(got, CrawlError):
            return Failed(got), None
        try:
            listed = self.read_right(walk, got, page)
        except CrawlError as error:  # this board's walk ends here, not the crawl
            return (Refused(error) if error.refused else Failed(error, fetched=True)), None
        return _listing(listed, page), listed

    def read_right(self, walk: _Walk, response: Response, page: int) -> ListPage:
        """A list page read, or the `CrawlError` why it cannot be (read right)."""
        try:
            listed = self.read(walk, response, page)
        except Exception as exc:
            self.logger.debug("%s: could not read %s", walk.task.name, response.url, exc_info=True)
            reason = f"could not read the list page: {type(exc).__name__}: {exc}"
            raise CrawlError(walk.task.name, response.url, reason) from exc
        if listed.problem:
            raise refusal(walk, response.url, listed.problem)
        return listed

    def follow(self, walk: _Walk, state: Walk, done: Step) -> Output:
        """Keep a step's rows; ask for the post pages and list pages it calls for."""
        walk.state = state
        for row in done.rows:
            walk.rows[row["key"]] = row
        for fetch in done.fetch:
            walk.details_pending += 1
            yield Request(
                fetch.url,
                callback=self.parse_detail,
                errback=self.detail_failed,
                cb_kwargs={"board": walk.task.name, "key": fetch.key, "identify": fetch.identify},
                meta=_meta(walk.task),
                dont_filter=True,
            )
        for page, url in done.pages:
            yield self.list_request(walk, page, url)
        if done.end is not None:
            yield from self.finish(walk)

    def read(self, walk: _Walk, response: Response, page: int) -> ListPage:
        """A list page read with the walk's profile (on page 1 of a probe: the best of all)."""
        html = decode(response, walk.task.encoding)
        root, now = tree(html.text), self.now(walk)
        if page == 1 and walk.task.candidates:
            walk.heading = board_title(root.root, any_board())  # read before a profile is chosen
            found = choose(root, html.url, walk.task.candidates, now)
            if found is None:
                return ListPage()
            walk.profile = found[0]
            paging = paging_for(html.url, found[0].page_param).after(found[1].pager(page))
            walk.paging = paging.describe()
            return found[1]
        return read_list(root, html.url, walk.profile, now)

    async def parse_detail(
        self, response: Response, board: str, key: str, identify: bool
    ) -> list[Out]:
        walk, out = self._walks[board], []
        try:
            page = decode(response, walk.task.encoding)
            root = tree(page.text)
            vague = key in walk.vague_dates
            if identify:  # the page answered: what it says (or that it says no id) is the answer
                words = walk.words
                said = (
                    None
                    if is_alert_page(root, words)
                    else page_id(root.root, page.url, words, walk.task.fetches)
                )
                found, check = await self.claim(walk, key, said)
                if found is None:
                    return list(self.detail_done(walk))
                if check is not None:  # read on; the claim is settled when its check answers
                    walk.details_pending += 1
                    out.append(check)
                key = found
            row = walk.rows[key]
            if key in walk.state.built and not shows(root, row["title"], walk.words):
                walk.doubt(key, response.url, "does not show the post")
            details = read_detail(root, page.url, walk.profile, row, ZoneInfo(walk.task.timezone))
            walk.rows[key] = with_details(row, details, vague_date=vague)
        except Exception as exc:  # a broken post page costs its details, never the post
            self.logger.warning("%s: could not read the post page %s: %s", board, response.url, exc)
            self.logger.debug("the post page's traceback", exc_info=True)
        return out + list(self.detail_done(walk))

    async def claim(
        self, walk: _Walk, path: str, said: str | None
    ) -> tuple[str | None, Request | None]:
        """A row linked by `path` whose page says it is post `said`: its key (None: the walk
        lists it under that id already), and a request that must prove the claim first. An id
        never takes the identity of another row of the walk, nor of a stored post with another
        title that is still there (listed on the walk's pages, or answering at its address)."""
        stored = None if said is None or said in walk.rows else await self.stored(walk, said)
        title = walk.rows[path]["title"]
        if said is None or stored is None or stored.same_title(title):
            return walk.rekey(path, said), None
        if said in walk.state.seen:
            walk.conflict(path, said, f"post {said} ({stored.title!r}) is listed on the board")
            return path, None
        if not (walk.task.fetches(stored.url) and self.allowed(walk, stored.url)):
            walk.conflict(path, said, f"post {said} is stored as {stored.title!r}")
            return path, None
        check = Request(  # an edit rebuilt its link, or another post claims its id: ask its page
            stored.url,
            callback=self.claim_checked,
            errback=self.claim_failed,
            cb_kwargs={"board": walk.task.name, "path": path, "key": said, "title": stored.title},
            meta=_meta(walk.task),
            dont_filter=True,
        )
        return path, check

    async def stored(self, walk: _Walk, key: str) -> KnownPost | None:
        """The stored post `key` with its address (asked of the store, off the reactor)."""
        board = walk.task.name
        found = self._lookup.known(board, [key], [])
        if found is not None and key not in found:
            return None
        post = found.get(key) if found else None
        if post is None or not post.url:
            post = (await asyncio.to_thread(self._lookup, board, [key], [])).get(key)
        return post

    def claim_checked(
        self, response: Response, board: str, path: str, key: str, title: str
    ) -> Output:
        """The claimed post's own address answered: still that post (both stay), or not (the
        row is that post, its link rebuilt by an edit)."""
        walk = self._walks[board]
        try:
            root = tree(decode(response, walk.task.encoding).text)
            words = walk.words
            there = not is_alert_page(root, words) and shows(root, title, words)
            there = there and page_id(root.root, response.url, words, walk.task.fetches) in (
                None,
                key,
            )
        except Exception:  # unreadable: not shown to be that post
            there = False
        if path in walk.rows:
            if there:
                walk.conflict(path, key, f"post {key} ({title!r}) still answers at {response.url}")
            else:
                walk.rekey(path, key)
        yield from self.detail_done(walk)

    def claim_failed(self, failure: Failure) -> Output:
        request = failure.request  # type: ignore[attr-defined]
        board, path, key = (request.cb_kwargs[k] for k in ("board", "path", "key"))
        walk, error = self._walks[board], failure.value
        if path in walk.rows and isinstance(error, HttpError) and error.response.status < 500:
            walk.rekey(path, key)  # its old address is gone: the row is that post
        elif path in walk.rows:  # could not tell: read it again next run
            walk.unidentified(path)
        yield from self.detail_done(walk)

    def detail_failed(self, failure: Failure) -> Output:
        request = failure.request  # type: ignore[attr-defined]
        board, key = request.cb_kwargs["board"], request.cb_kwargs["key"]
        walk, error = self._walks[board], failure.value
        if key in walk.state.built and isinstance(error, HttpError) and error.response.status < 500:
            walk.doubt(key, request.url, f"answers HTTP {error.response.status}")
        else:
            words = self.words(error, request.url)
            self.logger.warning("%s: post page %s failed: %s", board, request.url, words.cause)
        definite = isinstance(error, HttpError) and error.response.status < 500
        if request.cb_kwargs.get("identify") and definite:  # refused: the path stays the key
            walk.rekey(key, None)
        elif request.cb_kwargs.get("identify"):  # could not answer: read it again next run
            walk.unidentified(key)
        yield from self.detail_done(walk)

    def detail_done(self, walk: _Walk) -> Output:
        walk.details_pending -= 1
        yield from self.finish(walk)

    def finish(self, walk: _Walk) -> Output:
        item = walk.item()
        if item is not None:
            yield item

    def now(self, walk: _Walk) -> datetime:
        return datetime.now(ZoneInfo(walk.task.timezone))


def _listing(listed: ListPage, page: int) -> Listing:
    """A list page as the walk takes it: its rows' keys and titles, the rest (and its pager)
    read on demand."""
    entries = [
        Entry(s.key.value, s.title, s.notice, s.key.kind == "path", s.url, s.built)
        for s in listed.skims
    ]

    def read(keys: Mapping[str, str]) -> list[Row]:
        for skim in listed.skims:  # a row linked by a path it was once listed under: its post
            if keys.get(skim.key.value, skim.key.value) != skim.key.value:
                skim.key = Key(keys[skim.key.value], "id")
        return listed.complete(set(keys.values()))

    url = listed.context.base_url if listed.context else ""
    return Listing(entries, read, listed.empty, url, lambda: listed.pager(page))


def _meta(task: BoardTask) -> dict[str, object]:
    """A request's meta: the origins its board may fetch from, and its board's site, whose
    robots.txt rules the board's own pages (redirects carry it along; see `scraper.robots`)."""
    return {ORIGINS: task.origins, ROBOTS_SITE: site_of(task.url)}


def _elsewhere(origins: frozenset[str]) -> str:
    sites = ", ".join(sorted(shown(origin) for origin in origins))
    return (
        f"post links lead to another site ({sites}); their pages were not read (only the "
        "board's own site is fetched) — if it is the board's own, list it in `also_fetch`"
    )


def _requestable(task: BoardTask) -> None:
    """Raise `CrawlError` when the board's list page cannot be requested at all (a port out of
    range, a broken host)."""
    try:
        Request(task.url)
        Request(f"{site_of(task.url)}/robots.txt")
    except ValueError as exc:
        reason = f"the list page cannot be requested: {exc}"
        raise CrawlError(task.name, task.url, reason) from None


def refusal(walk: _Walk, url: str, problem: str) -> CrawlError:
    reason = f"the list page cannot be read right with profile {walk.profile.name!r}: {problem}"
    hint = f"try `scrape probe {walk.task.url}`"
    return CrawlError(walk.task.name, url, reason, hint, refused=True)
