"""The board spider: walks list pages from the first until it reaches posts already stored.

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

Lookup = Callable[[Sequence[str]], Mapping[str, bool]]


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


@dataclass
class WalkOutcome:
    """What the walk did; `complete` means it reached known posts, the end, or max_pages."""

    pages: int = 0
    complete: bool = False
    error: str | None = None
    empty: bool = False
    robots_blocked: bool = False
    ingest: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)


class BoardSpider(Spider):
    name = "board"

    def __init__(self, task: BoardTask, lookup: Lookup, **kwargs: Any) -> None:
        super().__init__(name=f"board.{task.name}", **kwargs)
        self.task, self.lookup = task, lookup
        self.outcome = WalkOutcome()
        self.seen: set[str] = set()
        self.robots: Protego | None = None
        self.order = 0
        self.details_fetched = 0

    async def start(self) -> AsyncIterator[Request]:
        if self.task.obey_robots:
            yield Request(
                _robots_url(self.task.url),
                callback=self.parse_robots,
                errback=self.robots_failed,
                meta={"handle_httpstatus_all": True},
                dont_filter=True,
            )
        else:
            yield self.list_request(1)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        if response.status < 400 and isinstance(response, TextResponse):
            self.robots = Protego.parse(response.text)
        elif response.status >= 500:
            self.logger.warning("robots.txt answered %s; crawling as allowed", response.status)
        if not self.allowed(self.task.url):
            self.outcome.robots_blocked = True
            self.outcome.error = f"robots.txt disallows the list page {self.task.url}"
            return
        yield self.list_request(1)

    def robots_failed(self, failure: Failure) -> Iterator[Request]:
        self.logger.warning(
            "robots.txt could not be fetched (%s); crawling as allowed", failure.value
        )
        yield self.list_request(1)

    def allowed(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(url, self.task.user_agent)

    def list_request(self, page: int) -> Request:
        return Request(
            _page_url(self.task.url, self.task.profile.page_param, page),
            callback=self.parse_list,
            errback=self.list_failed,
            cb_kwargs={"page": page},
            dont_filter=True,
        )

    def list_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        error: Any = failure.value
        if isinstance(error, HttpError):
            reason = f"HTTP {error.response.status}"
        else:
            reason = f"{type(error).__name__}: {failure.getErrorMessage()}"
        self.outcome.error = f"list page {request.url} failed: {reason}"

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        self.outcome.pages += 1
        response = self.decoded(response)
        rows = parse_rows(response.selector, response.url, self.task.profile, self.now())
        fresh = [row for row in rows if row["key"] not in self.seen]
        if not fresh:
            self.outcome.empty = page == 1
            self.outcome.complete = True
            return
        stored = self.lookup([row["key"] for row in rows])
        known = all(stored.get(r["key"]) or (r["notice"] and r["key"] in self.seen) for r in rows)
        for row in fresh:
            yield from self.emit(row, stored)
        yield from self.next_page(page, done=known)

    def next_page(self, page: int, done: bool) -> Iterator[Request]:
        request = self.list_request(page + 1)
        if done or page >= self.task.max_pages or not self.allowed(request.url):
            self.outcome.complete = True
        else:
            yield request

    def emit(self, row: dict[str, Any], stored: Mapping[str, bool]) -> Iterator[Any]:
        self.seen.add(row["key"])
        self.order += 1
        row["seq"] = self.order
        if row["key"] in stored or not self.wants_details(row):
            yield row
            return
        self.details_fetched += 1
        yield Request(
            row["url"],
            callback=self.parse_detail,
            errback=self.detail_failed,
            cb_kwargs={"row": row},
            dont_filter=True,
        )

    def wants_details(self, row: dict[str, Any]) -> bool:
        url, budget = row["url"], self.task.detail_budget
        if budget is not None and (row["notice"] or self.details_fetched >= budget):
            return False  # a baseline sends only the newest `backfill` posts, never notices
        if not self.task.details:
            return False
        same_site = urlsplit(url).netloc == urlsplit(self.task.url).netloc
        return same_site and url != self.task.url and self.allowed(url)

    def parse_detail(self, response: Response, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        response = self.decoded(response)
        try:
            row.update(parse_detail(response.selector, response.url, self.task.profile))
        except Exception:  # a broken detail page costs its details, never the post
            self.logger.exception("could not parse the detail page %s", response.url)
        yield row

    def detail_failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = failure.request  # type: ignore[attr-defined]
        self.logger.warning("detail page %s failed: %s", request.url, failure.getErrorMessage())
        yield request.cb_kwargs["row"]

    def decoded(self, response: Response) -> TextResponse:
        return decode(response, self.task.encoding)

    def now(self) -> datetime:
        return datetime.now(ZoneInfo(self.task.timezone))


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


def _robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def _page_url(url: str, param: str, page: int) -> str:
    """The list URL with its page parameter set; page 1 is the configured URL as given."""
    if page == 1:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    query.append((param, str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))
