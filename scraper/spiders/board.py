"""The board spider: walks each board's list pages from the first until it reaches posts
already stored. One crawl walks many boards, so boards on one site share its politeness budget
(concurrency, delay) and one robots.txt.

It only parses and yields plain items; what is "stored" it learns through `lookup`, a callable
the caller hands in, so the spider never touches the database itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from protego import Protego
from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from scraper.parse import parse_detail, parse_rows
from scraper.profiles import Profile

# (board, keys) -> {key: (settled, title)} for the keys already stored
Lookup = Callable[[str, Sequence[str]], Mapping[str, tuple[bool, str]]]


@dataclass(frozen=True)
class BoardTask:
    name: str
    url: str
    profile: Profile
    timezone: str = "Asia/Seoul"
    max_pages: int = 10
    details: bool = True
    encoding: str = "auto"
    obey_robots: bool = True
    user_agent: str = "boardwatch"
    detail_budget: int | None = None  # a baseline fetches details only for what it will send
    backfill: int = 0


@dataclass
class WalkOutcome:
    """What a walk did; `complete` means it reached known posts, the end, or max_pages."""

    pages: int = 0
    complete: bool = False
    error: str | None = None
    empty: bool = False
    ingest: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Walk:
    """One board's walk within a crawl."""

    task: BoardTask
    outcome: WalkOutcome = field(default_factory=WalkOutcome)
    seen: set[str] = field(default_factory=set)
    order: int = 0
    details_fetched: int = 0


class BoardSpider(Spider):
    name = "boards"

    def __init__(self, tasks: Sequence[BoardTask], lookup: Lookup, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.walks = {task.name: Walk(task) for task in tasks}
        self.lookup = lookup
        self.robots: dict[str, Protego | None] = {}  # site -> rules (None: all allowed)

    async def start(self) -> AsyncIterator[Request]:
        sites: dict[str, list[Walk]] = {}
        for walk in self.walks.values():
            sites.setdefault(_site(walk.task.url), []).append(walk)
        for site, walks in sites.items():
            if any(walk.task.obey_robots for walk in walks):
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

    def parse_robots(self, response: Response, site: str) -> Iterator[Request]:
        rules = None
        if response.status < 400 and isinstance(response, TextResponse):
            rules = Protego.parse(response.text)
        elif response.status >= 500:
            self.logger.warning(
                "%s answered %s; crawling as allowed", response.url, response.status
            )
        yield from self.begin(site, rules)

    def robots_failed(self, failure: Failure) -> Iterator[Request]:
        site = failure.request.cb_kwargs["site"]  # type: ignore[attr-defined]
        self.logger.warning(
            "%s/robots.txt could not be fetched (%s); crawling as allowed", site, failure.value
        )
        yield from self.begin(site, None)

    def begin(self, site: str, rules: Protego | None) -> Iterator[Request]:
        """Robots.txt is known for `site`: start its boards' walks, or refuse them."""
        self.robots[site] = rules
        for walk in self.walks.values():
            if _site(walk.task.url) != site:
                continue
            if self.allowed(walk, walk.task.url):
                yield self.list_request(walk, 1)
            else:
                walk.outcome.error = f"robots.txt disallows the list page {walk.task.url}"

    def allowed(self, walk: Walk, url: str) -> bool:
        rules = self.robots.get(_site(url)) if walk.task.obey_robots else None
        return rules is None or rules.can_fetch(url, walk.task.user_agent)

    def list_request(self, walk: Walk, page: int) -> Request:
        task = walk.task
        return Request(
            _page_url(task.url, task.profile.page_param, page),
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"board": task.name, "page": page},
            dont_filter=True,
        )

    def list_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        error: Any = failure.value
        if isinstance(error, HttpError):
            reason = f"HTTP {error.response.status}"
        else:
            reason = f"{type(error).__name__}: {failure.getErrorMessage()}"
        walk = self.walks[request.cb_kwargs["board"]]
        walk.outcome.error = f"list page {request.url} failed: {reason}"

    def parse_list(self, response: Response, board: str, page: int) -> Iterator[Any]:
        walk = self.walks[board]
        walk.outcome.pages += 1
        page_response = decode(response, walk.task.encoding)
        rows = parse_rows(
            page_response.selector, page_response.url, walk.task.profile, self.now(walk)
        )
        fresh = [row for row in rows if row["key"] not in walk.seen]
        if not fresh:
            walk.outcome.empty = page == 1
            walk.outcome.complete = True
            return
        stored = self.lookup(board, [row["key"] for row in rows])
        settled = {key for key, (is_settled, _) in stored.items() if is_settled}
        known = all(r["key"] in settled or (r["notice"] and r["key"] in walk.seen) for r in rows)
        for row in fresh:
            if row["key"] in settled and stored[row["key"]][1] == row["title"]:
                walk.seen.add(row["key"])  # stored, settled, unchanged: nothing to do
                continue
            yield from self.emit(walk, row, stored)
        yield from self.next_page(walk, page, done=known)

    def next_page(self, walk: Walk, page: int, done: bool) -> Iterator[Request]:
        request = self.list_request(walk, page + 1)
        if done or page >= walk.task.max_pages or not self.allowed(walk, request.url):
            walk.outcome.complete = True
        else:
            yield request

    def emit(
        self, walk: Walk, row: dict[str, Any], stored: Mapping[str, tuple[bool, str]]
    ) -> Iterator[Any]:
        walk.seen.add(row["key"])
        walk.order += 1
        row.update(board=walk.task.name, seq=walk.order)
        if row["key"] in stored or not self.wants_details(walk, row):
            yield row
            return
        walk.details_fetched += 1
        yield Request(
            row["url"],
            callback=self.parse_detail,
            errback=self.detail_failed,
            cb_kwargs={"row": row},
            dont_filter=True,
        )

    def wants_details(self, walk: Walk, row: dict[str, Any]) -> bool:
        url, budget = row["url"], walk.task.detail_budget
        if budget is not None and (row["notice"] or walk.details_fetched >= budget):
            return False  # a baseline sends only the newest `backfill` posts, never notices
        if not walk.task.details:
            return False
        same_site = urlsplit(url).netloc == urlsplit(walk.task.url).netloc
        return same_site and url != walk.task.url and self.allowed(walk, url)

    def parse_detail(self, response: Response, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        task = self.walks[row["board"]].task
        try:
            page = decode(response, task.encoding)
            row.update(parse_detail(page.selector, page.url, task.profile))
        except Exception:  # a broken detail page costs its details, never the post
            self.logger.exception("could not parse the detail page %s", response.url)
        yield row

    def detail_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("detail page %s failed: %s", request.url, failure.getErrorMessage())
        yield request.cb_kwargs["row"]

    def now(self, walk: Walk) -> datetime:
        return datetime.now(ZoneInfo(walk.task.timezone))


def decode(response: Response, encoding: str = "auto") -> TextResponse:
    """The page in the board's encoding: forced, declared, or CP949 when it is not UTF-8."""
    if not isinstance(response, TextResponse):
        raise TypeError(f"not a text page: {response.url}")
    if encoding.lower() != "auto":
        return response.replace(encoding=encoding)
    if response._declared_encoding() or _is_utf8(response.body):
        return response
    return response.replace(encoding="cp949")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _site(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _page_url(url: str, param: str, page: int) -> str:
    """The list URL with its page parameter set; page 1 is the configured URL as given."""
    if page == 1:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    query.append((param, str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))
