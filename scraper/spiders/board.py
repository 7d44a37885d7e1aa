"""The board spider: walks each board's list pages from the first until it reaches posts
already stored, then yields one `BoardWalk` item per board. One crawl walks many boards, so
boards on one site share its politeness budget (concurrency, delay) and one robots.txt.

It only parses and yields; what is "stored" it learns through `lookup`, a callable the caller
hands in, so the spider never touches the database itself.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from protego import Protego
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from scraper.detail import is_alert_page, read_detail, shows, with_details
from scraper.errors import CrawlError
from scraper.items import BoardTask, BoardWalk, KnownPost, Lookup, RobotsRead, Row, WalkEnd
from scraper.keys import Key, page_id, site_of
from scraper.parse import ListPage, Skim, board_title, choose, read_list
from scraper.profiles import Profile
from scraper.text import tree

Out = Request | BoardWalk | RobotsRead
Output = Iterator[Out]
PREFETCH = 4  # list pages fetched ahead while every post on them is new


@dataclass
class _Walk:
    """The spider's bookkeeping for one board's walk."""

    task: BoardTask
    profile: Profile
    rows: dict[str, Row] = field(default_factory=dict)  # emitted rows, in the board's order
    seen: set[str] = field(default_factory=set)
    vague_dates: set[str] = field(default_factory=set)  # keys whose list date had no year
    above: set[str] = field(default_factory=set)  # a resumed first walk: keys above its posts
    aliases: dict[str, str] = field(default_factory=dict)  # key -> the path it is listed under
    unknown: set[str] = field(default_factory=set)  # paths whose post page must say the id
    built: dict[str, str] = field(default_factory=dict)  # key -> what its address was built from
    checking: bool = False  # a built address's page was asked for: it is checked when it answers
    warnings: dict[str, str] = field(default_factory=dict)  # what it was built from -> warning
    heading: str = ""  # the board's name as page 1 shows it (read for a probe)
    met: bool = False  # a resumed first walk reached a post the failed one stored
    pages: int = 0
    end: WalkEnd | None = None
    error: CrawlError | None = None
    details_pending: int = 0
    details_fetched: int = 0
    yielded: bool = False
    requested: int = 1  # the furthest list page asked for
    reading: bool = False  # a page of it is being read (it may wait for the store)
    waiting: dict[int, Response | CrawlError] = field(default_factory=dict)  # fetched ahead

    def identify(
        self, skims: Sequence[Skim], stored: Mapping[str, KnownPost]
    ) -> dict[str, KnownPost]:
        """Rows linked by a path alone (a title slug): the post once listed under that path with
        that title, by its own key; else unknown until its page says its id — an edited title,
        a slug another post had, a post keyed by its path before its page was ever read. A post
        page on another host is not read: there the path stays the key."""
        known = dict(stored)
        paths = [s for s in skims if s.key.kind == "path"]
        claimed = Counter(k for s in paths if (k := getattr(known.get(s.key.value), "key", None)))
        below = _newest_below(skims, known)
        for skim in paths:
            path, post = skim.key.value, known.get(skim.key.value)
            own = post.key if post is not None else None
            in_place = post is not None and below[id(skim)] <= post.order
            if (
                post is not None
                and own
                and post.same_title(skim.title)
                and claimed[own] == 1
                and in_place
            ):
                skim.key = Key(own, "id" if own != path else "path")
                self.aliases[own] = path
                known[own] = post
                continue
            if self.task.identify and _same_site(skim.url, self.task.url):
                self.unknown.add(path)
                known.pop(path, None)
        return known

    def rekey(self, path: str, key: str | None) -> str | None:
        """The row listed under `path` is the post `key` (None: its page carries no id, so the
        path stays its key). Returns the row's key; None when the walk has it under its id."""
        row = Row(**self.rows[path])
        row["alias"] = path
        key = key or path
        if key != path and key in self.rows:  # listed twice: under its id, and its path
            del self.rows[path]
            self.rows[key]["notice"] = self.rows[key]["notice"] or row["notice"]
            return None
        row["key"] = key
        self.rows = {
            (key if k == path else k): (row if k == path else v) for k, v in self.rows.items()
        }
        return key

    def unidentified(self, path: str) -> None:
        """A row linked by a path whose page did not answer (a timeout, a server error): kept
        out of this walk — stored under its path it could be a post sent twice — and read again
        by the next run."""
        self.rows.pop(path, None)
        self.unknown.discard(path)

    def note_above(self, skims: Sequence[Skim], stored: Mapping[str, KnownPost]) -> None:
        """While a resumed first walk has not met a post the failed one stored, its posts are
        new (sent, so their pages are read); below that, they are the rest of the baseline."""
        for skim in skims:
            self.met = self.met or (skim.key.value in stored and not skim.notice)
            if self.met:
                return
            self.above.add(skim.key.value)

    def doubt(self, key: str, url: str, answer: str) -> None:
        """A post page at an address we built does not answer as that post's page."""
        built = self.built[key]
        self.warnings.setdefault(
            built,
            f"post links built from {built} lead nowhere: {url} {answer}, so digests would "
            f"link to a page that is not the post; a [profiles.NAME] with `link = ...` "
            f"(the post page's address with {{key}}) says where posts live",
        )

    def stop(self, end: WalkEnd, error: CrawlError | None = None) -> None:
        self.end, self.error = end, error

    def item(self) -> BoardWalk | None:
        """The walk's item, once: when its list walk ended and no post page is outstanding."""
        if self.yielded or self.end is None or self.details_pending:
            return None
        self.yielded = True
        task = self.task
        rows = () if self.end is WalkEnd.REFUSED else tuple(self.rows.values())
        return BoardWalk(
            task.name,
            rows,
            self.end,
            self.pages,
            task.baseline,
            task.backfill,
            self.error,
            self.profile.name,
            tuple(self.warnings.values()),
            self.heading,
            frozenset(self.seen),
        )


class BoardSpider(Spider):
    name = "boards"

    def __init__(
        self,
        tasks: Sequence[BoardTask],
        lookup: Lookup,
        robots: Mapping[str, str | None] | None = None,
        robots_ttl: float = 86400.0,
        **kwargs: Any,
    ) -> None:
        """`robots`: the sites whose robots.txt is known and fresh (body, or None: all allowed);
        the others' are read first, and yielded as `RobotsRead` items for the store."""
        super().__init__(**kwargs)
        self._walks = {task.name: _Walk(task, task.profile) for task in tasks}
        self._lookup = lookup
        self._known_robots = dict(robots or {})
        self._robots_ttl = robots_ttl
        self._robots: dict[str, Protego | None] = {}  # site -> rules (None: all allowed)

    async def start(self) -> AsyncIterator[Request | BoardWalk | RobotsRead]:
        sites: dict[str, list[_Walk]] = {}
        for walk in self._walks.values():
            if (problem := _unrequestable(walk.task.url)) is not None:  # that board alone fails
                reason = f"the list page cannot be requested: {problem}"
                walk.stop(WalkEnd.FAILED, CrawlError(walk.task.name, walk.task.url, reason))
                for item in self.finish(walk):
                    yield item
                continue
            sites.setdefault(site_of(walk.task.url), []).append(walk)
        for site, walks in sites.items():
            if any(walk.task.obey_robots for walk in walks) and site in self._known_robots:
                body = self._known_robots[site]
                for request in self.begin(site, Protego.parse(body) if body else None):
                    yield request
            elif any(walk.task.obey_robots for walk in walks):
                yield Request(
                    f"{site}/robots.txt",
                    callback=self.parse_robots,
                    errback=self.robots_failed,
                    cb_kwargs={"site": site},
                    meta={"handle_httpstatus_all": True},
                    dont_filter=True,
                )
            else:
                for walk in walks:
                    yield self.list_request(walk, 1)

    def parse_robots(self, response: Response, site: str) -> Output:
        rules, body = None, None
        if response.status < 400 and isinstance(response, TextResponse):
            body = response.text
            rules = Protego.parse(body)
        elif response.status >= 500:
            self.logger.warning(
                "%s answered %s; crawling as allowed", response.url, response.status
            )
        if response.status < 500:  # a site's answer (4xx: no robots.txt, all allowed) is kept
            yield RobotsRead(site, body, _fresh_for(response, self._robots_ttl))
        yield from self.begin(site, rules)

    def robots_failed(self, failure: Failure) -> Output:
        site = failure.request.cb_kwargs["site"]  # type: ignore[attr-defined]
        self.logger.warning(
            "%s/robots.txt could not be fetched (%s); crawling as allowed", site, failure.value
        )
        yield from self.begin(site, None)

    def begin(self, site: str, rules: Protego | None) -> Output:
        """Robots.txt is known for `site`: start its boards' walks, or refuse them."""
        self._robots[site] = rules
        for walk in self._walks.values():
            if site_of(walk.task.url) != site:
                continue
            if self.allowed(walk, walk.task.url):
                yield self.list_request(walk, 1)
            else:
                reason = "robots.txt disallows the list page"
                walk.stop(WalkEnd.ROBOTS, CrawlError(walk.task.name, walk.task.url, reason))
                yield from self.finish(walk)

    def allowed(self, walk: _Walk, url: str) -> bool:
        rules = self._robots.get(site_of(url)) if walk.task.obey_robots else None
        return rules is None or rules.can_fetch(url, walk.task.user_agent)

    def list_request(self, walk: _Walk, page: int) -> Request:
        task = walk.task
        return Request(
            _page_url(task.url, task.profile.page_param, page),
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"board": task.name, "page": page},
            dont_filter=True,
        )

    async def list_failed(self, failure: Failure) -> list[Out]:
        request = failure.request  # type: ignore[attr-defined]
        error: Any = failure.value
        if isinstance(error, HttpError):
            reason = f"HTTP {error.response.status}"
        elif isinstance(error, IgnoreRequest):
            reason = str(error)
        else:
            reason = f"{type(error).__name__}: {failure.getErrorMessage()}"
        walk, page = self._walks[request.cb_kwargs["board"]], request.cb_kwargs["page"]
        message = f"list page {request.url} failed: {reason}"
        return await self.in_order(walk, page, CrawlError(walk.task.name, request.url, message))

    async def parse_list(self, response: Response, board: str, page: int) -> list[Out]:
        return await self.in_order(self._walks[board], page, response)

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
                if isinstance(got, CrawlError):
                    walk.stop(WalkEnd.FAILED, got)
                    out.extend(self.finish(walk))
                    continue
                listed = self.list_page(walk, got, page, out)
                if listed is None:
                    continue
                board, paths = walk.task.name, listed.paths
                stored = self._lookup.known(board, listed.keys, paths)
                if stored is None:  # a post not read ahead: ask the store, off the reactor
                    stored = await asyncio.to_thread(self._lookup, board, listed.keys, paths)
                out.extend(self.listed(walk, listed, page, stored, bool(paths)))
        finally:
            walk.reading = False
        if walk.end is not None:
            walk.waiting.clear()
        return out

    def list_page(
        self, walk: _Walk, response: Response, page: int, out: list[Out]
    ) -> ListPage | None:
        """Read a list page; None when that ended the walk (its output added to `out`)."""
        board = walk.task.name
        walk.pages += 1
        try:
            listed = self.read(walk, response, page)
        except Exception as exc:  # an unreadable page ends this board's walk, not the crawl
            self.logger.debug("%s: could not read %s", board, response.url, exc_info=True)
            reason = f"could not read the list page: {type(exc).__name__}: {exc}"
            walk.stop(WalkEnd.FAILED, CrawlError(board, response.url, reason))
            out.extend(self.finish(walk))
            return None
        if listed.problem:
            walk.stop(WalkEnd.REFUSED, refusal(walk, response.url, listed.problem))
            out.extend(self.finish(walk))
            return None
        if not any(s.key.value not in walk.seen for s in listed.skims):
            first = WalkEnd.NO_POSTS_YET if listed.empty else WalkEnd.EMPTY
            walk.stop(first if page == 1 else WalkEnd.END)
            out.extend(self.finish(walk))
            return None
        return listed

    def listed(
        self,
        walk: _Walk,
        listed: ListPage,
        page: int,
        stored: Mapping[str, KnownPost],
        slugs: bool,
    ) -> Output:
        """A list page's rows, now that what the store knows of them is known (`slugs`: some
        rows are linked by a path alone)."""
        skims = listed.skims
        fresh = [s for s in skims if s.key.value not in walk.seen]
        if slugs:
            stored = walk.identify(skims, stored)
        if walk.task.resumed:
            walk.note_above(skims, stored)
        settled = {key for key, known in stored.items() if known.settled}
        caught_up = all(
            s.key.value in settled or (s.notice and s.key.value in walk.seen) for s in skims
        )
        wanted = set()
        for skim in fresh:  # stored, settled and unchanged: nothing more to read or do
            key = skim.key.value
            walk.seen.add(key)
            walk.seen.add(walk.aliases.get(key, key))
            if not (key in settled and stored[key].same_title(skim.title)):
                wanted.add(key)
        walk.built |= {s.key.value: s.built for s in fresh if s.built and s.key.value in wanted}
        for row in listed.complete(wanted) if wanted else ():
            yield from self.emit(walk, row, stored)
        walk.vague_dates |= listed.vague_dates
        all_new = not any(s.key.value in stored for s in skims if not s.notice)  # notices stay
        yield from self.next_page(walk, page, caught_up, all_new=all_new)

    def read(self, walk: _Walk, response: Response, page: int) -> ListPage:
        """A list page read with the walk's profile (on page 1 of a probe: the best of all)."""
        html = decode(response, walk.task.encoding)
        root, now = tree(html.text), self.now(walk)
        if page == 1 and walk.task.candidates:
            walk.heading = board_title(root.root)
            found = choose(root, html.url, walk.task.candidates, now)
            if found is None:
                return ListPage()
            walk.profile = found[0]
            return found[1]
        return read_list(root, html.url, walk.profile, now)

    def next_page(self, walk: _Walk, page: int, caught_up: bool, *, all_new: bool) -> Output:
        """Ask for the next page — and, while every post on this one was new (a baseline, a long
        gap), for up to PREFETCH pages ahead, so the walk waits on one round trip, not each."""
        if caught_up:
            walk.stop(WalkEnd.CAUGHT_UP)
        elif page >= walk.task.max_pages:
            walk.stop(WalkEnd.MAX_PAGES)
        else:
            last = min(page + (PREFETCH if all_new else 1), walk.task.max_pages)
            for ahead in range(walk.requested + 1, last + 1):
                request = self.list_request(walk, ahead)
                if not self.allowed(walk, request.url):
                    break  # robots.txt closes the rest of the board, from that page on
                walk.requested = ahead
                yield request
            if walk.requested > page:
                return
            walk.stop(WalkEnd.END)
        yield from self.finish(walk)

    def emit(self, walk: _Walk, row: Row, stored: Mapping[str, KnownPost]) -> Output:
        """Keep the row; ask for its post page when its details are wanted, or when only the
        page can say which post it is."""
        if row["key"] in walk.aliases:
            row["alias"] = walk.aliases[row["key"]]
        walk.rows[row["key"]] = row
        identify = row["key"] in walk.unknown
        details = row["key"] not in stored and self.wants_details(walk, row)
        check = row["key"] in walk.built and not walk.checking and walk.task.identify
        if not (identify or details or check):
            return
        walk.checking = walk.checking or row["key"] in walk.built
        walk.details_pending += 1
        walk.details_fetched += int(details)
        yield Request(
            row["url"],
            callback=self.parse_detail,
            errback=self.detail_failed,
            cb_kwargs={"board": walk.task.name, "key": row["key"], "identify": identify},
            dont_filter=True,
        )

    def wants_details(self, walk: _Walk, row: Row) -> bool:
        task, url = walk.task, row["url"]
        news = row["key"] in walk.above
        if task.baseline and not news and (row["notice"] or walk.details_fetched >= task.backfill):
            return False  # a baseline sends only the newest `backfill` posts, never notices
        if not task.details:
            return False
        same_site = urlsplit(url).netloc == urlsplit(task.url).netloc
        return same_site and url != task.url and self.allowed(walk, url)

    def parse_detail(self, response: Response, board: str, key: str, identify: bool) -> Output:
        walk = self._walks[board]
        try:
            page = decode(response, walk.task.encoding)
            root = tree(page.text)
            vague = key in walk.vague_dates
            if identify:  # the page answered: what it says (or that it says no id) is the answer
                said = None if is_alert_page(root) else page_id(root.root, page.url)
                found = walk.rekey(key, said)
                if found is None:
                    yield from self.detail_done(walk)
                    return
                key = found
            row = walk.rows[key]
            if key in walk.built and not shows(root, row["title"]):
                walk.doubt(key, response.url, "does not show the post")
            details = read_detail(root, page.url, walk.profile, row)
            walk.rows[key] = with_details(row, details, vague_date=vague)
        except Exception as exc:  # a broken post page costs its details, never the post
            self.logger.warning("%s: could not read the post page %s: %s", board, response.url, exc)
            self.logger.debug("the post page's traceback", exc_info=True)
        yield from self.detail_done(walk)

    def detail_failed(self, failure: Failure) -> Output:
        request = failure.request  # type: ignore[attr-defined]
        board, key = request.cb_kwargs["board"], request.cb_kwargs["key"]
        walk, error = self._walks[board], failure.value
        if key in walk.built and isinstance(error, HttpError) and error.response.status < 500:
            walk.doubt(key, request.url, f"answers HTTP {error.response.status}")
        else:
            self.logger.warning(
                "%s: post page %s failed: %s", board, request.url, failure.getErrorMessage()
            )
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


def _newest_below(
    skims: Sequence[Skim], known: Mapping[str, KnownPost]
) -> dict[int, tuple[float, int]]:
    """For each row, the latest stored post listed below it (by when it was first stored): a
    post the board lists above a post stored after it was written again, or is another."""
    newest: tuple[float, int] = (0.0, 0)
    found: dict[int, tuple[float, int]] = {}
    for skim in reversed(skims):
        found[id(skim)] = newest
        post = known.get(skim.key.value)
        if post is not None and not skim.notice:
            newest = max(newest, post.order)
    return found


def _same_site(url: str | None, board_url: str) -> bool:
    return url is not None and urlsplit(url).netloc == urlsplit(board_url).netloc


def _unrequestable(url: str) -> str | None:
    """Why a URL cannot be requested at all (a port out of range, a broken host), if it can't."""
    try:
        Request(url)
        Request(f"{site_of(url)}/robots.txt")
    except ValueError as exc:
        return str(exc)
    return None


def refusal(walk: _Walk, url: str, problem: str) -> CrawlError:
    reason = f"the list page cannot be read right with profile {walk.profile.name!r}: {problem}"
    return CrawlError(walk.task.name, url, reason, f"try `scrape probe {walk.task.url}`")


_KOREAN = frozenset({"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ksc5601", "cp949", "uhc"})


def decode(response: Response, encoding: str = "auto") -> TextResponse:
    """The page in the board's encoding: forced; else declared, unless the declaration is
    wrong (UTF-8 declared, EUC-KR sent); else UTF-8 when it is, CP949 when it is not. EUC-KR is
    read as CP949, its superset (Korean sites send CP949's extra syllables as "EUC-KR"). A UTF-8
    page with a few broken bytes is UTF-8, those bytes replaced: only a page whose text is not
    UTF-8 at all is read as CP949."""
    if not isinstance(response, TextResponse):
        raise TypeError(f"not a text page: {response.url}")
    if encoding.lower() != "auto":
        return response.replace(encoding=encoding)
    declared = (response._declared_encoding() or "").lower().replace("_", "-")
    if declared in _KOREAN:
        return response.replace(encoding="cp949")
    if declared and declared not in ("utf-8", "utf8"):
        return response
    return response.replace(encoding="utf-8" if _mostly_utf8(response.body) else "cp949")


def _mostly_utf8(body: bytes) -> bool:
    """Is the page's text UTF-8, a few broken bytes aside? Korean text in EUC-KR reads as UTF-8
    errors nearly everywhere (and as a valid sequence now and then); in UTF-8, it is valid."""
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    valid = sum(1 for char in text if char > "\x7f" and char != "\ufffd")
    return valid > 4 * broken


_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


def _fresh_for(response: Response, default: float) -> float:
    """How long a robots.txt may be trusted: as its caching headers say, else `default`."""
    control = (response.headers.get(b"Cache-Control") or b"").decode("latin-1")
    match = _MAX_AGE.search(control)
    return float(min(max(int(match[1]), 60), 7 * 86400)) if match else default


def _page_url(url: str, param: str, page: int) -> str:
    """The list URL with its page parameter set; page 1 is the configured URL as given."""
    if page == 1:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    query.append((param, str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))
