"""What crosses the crawl's boundaries, as typed records.

In: a `BoardTask` per board to walk. Out: one `BoardWalk` item per board when its walk and its
post pages are done (the spider yields it), which the store pipeline turns into a `StoredWalk`.
The scheduler learns each board's result from that item (Scrapy's `item_scraped` signal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property
from typing import Protocol

from records.errors import BoardwatchError
from records.post import Details, ReadPost
from records.walk import IngestResult
from scraper.errors import CrawlError
from scraper.origins import origins, within
from scraper.profiles import Profile

# A post as a walk reads it: its list row, completed by its own page when that is fetched (one
# definition for the crawl, the store and the digest: `records.post`).
Row = ReadPost


class PageRead(Details):
    """What a post's own page adds to its row (and, for a cut title or a year-less date, what
    it says in full)."""

    title: str | None
    date: date | None


class KnownPost(Protocol):
    """A post already stored, as a walk needs to know it."""

    @property
    def settled(self) -> bool: ...  # seen by a walk that finished

    @property
    def key(self) -> str | None: ...  # its own key, when it was found under an alias

    @property
    def order(self) -> tuple[float, int]: ...  # when it was first stored (a later post: higher)

    @property
    def title(self) -> str: ...  # as stored

    @property
    def url(self) -> str: ...  # its address ("" when the lookup did not read it)

    def same_title(self, title: str) -> bool: ...  # `title` is no change (or a cut of it)


class Lookup(Protocol):
    """The caller's window on the store: (board, keys, aliases) -> the stored posts among the
    keys, and among the aliases (links a post was listed under before: title slugs)."""

    def known(
        self, board: str, keys: Sequence[str], aliases: Sequence[str]
    ) -> Mapping[str, KnownPost] | None:
        """From what was read ahead of the crawl, without waiting; None: ask (call) instead."""

    def __call__(
        self, board: str, keys: Sequence[str], aliases: Sequence[str]
    ) -> Mapping[str, KnownPost]:
        """Asked of the store: blocks, so the spider calls it in a thread."""


@dataclass(frozen=True)
class BoardTask:
    """One board to walk in a crawl."""

    name: str
    url: str
    profile: Profile
    timezone: str = "Asia/Seoul"
    max_pages: int = 10
    details: bool = True
    encoding: str = "auto"
    obey_robots: bool = True
    user_agent: str = "boardwatch"
    baseline: bool = False  # the board's first walk: post pages only for what it will send
    resumed: bool = False  # a failed first walk stored some posts: the ones above them are new
    backfill: int = 0
    identify: bool = True  # read the id of a post linked by a path alone from its page
    candidates: tuple[Profile, ...] = ()  # `probe`: read page 1 with each, keep the best
    also_fetch: tuple[str, ...] = ()  # other origins the board's pages live on (its config's)
    not_before: float = 0.0  # its first page is asked for no sooner (monotonic clock; 0: at once)

    @cached_property
    def origins(self) -> frozenset[str]:
        """Where this board's requests may go: its own origin and those it lists."""
        return origins(self.url, self.also_fetch)

    def fetches(self, url: str | None) -> bool:
        """Is `url` on the board's own site (an origin it may request)?"""
        return url is not None and within(url, self.origins)


class WalkEnd(Enum):
    """How a walk ended."""

    CAUGHT_UP = "reached posts already stored"
    END = "reached the end of the board"
    MAX_PAGES = "walked max_pages list pages"
    EMPTY = "the first list page held no post"
    NO_POSTS_YET = "the board's list is there and says it has no posts"
    FAILED = "a list page could not be fetched"
    REFUSED = "a list page could not be read right"
    ROBOTS = "robots.txt disallows the list page"

    @property
    def complete(self) -> bool:
        """The walk saw every page it had to: what it did not store is not on the board."""
        return self in (
            WalkEnd.CAUGHT_UP,
            WalkEnd.END,
            WalkEnd.MAX_PAGES,
            WalkEnd.EMPTY,
            WalkEnd.NO_POSTS_YET,
        )

    @property
    def settles(self) -> bool:
        """The walk may settle what it saw (a page that read nothing settles nothing, but a
        board that says it has no posts yet has its baseline: its first posts are news)."""
        return self in (WalkEnd.CAUGHT_UP, WalkEnd.END, WalkEnd.MAX_PAGES, WalkEnd.NO_POSTS_YET)


@dataclass(frozen=True, kw_only=True)
class BoardWalk:
    """The item a board's walk ends as: its rows in the board's order, and how it ended."""

    board: str
    rows: tuple[Row, ...]
    end: WalkEnd
    pages: int
    baseline: bool
    backfill: int
    error: CrawlError | None = None
    profile: str = ""  # the profile that read it (a probe's choice)
    warnings: tuple[str, ...] = ()  # noticed without failing (built links that lead nowhere)
    heading: str = ""  # the board's name as its first page shows it (a probe's)
    listed: frozenset[str] = frozenset()  # every key (and alias) the walk saw on its pages
    paging: str = ""  # how its pages turn, as its first page shows it (a probe's)
    origins: frozenset[str] = frozenset()  # where the board's requests may go
    fetched: float | None = None  # when its first list page answered (monotonic clock; None: no)


@dataclass(frozen=True, kw_only=True)
class StoredWalk:
    """A walk after the store pipeline: what storing it did (the store's own `IngestResult`,
    unchanged; a quiet walk stores nothing), or why it could not."""

    walk: BoardWalk
    result: IngestResult = field(default_factory=IngestResult)
    new: tuple[Row, ...] = ()  # the walk's rows that `result.new` holds: first seen by this walk
    error: BoardwatchError | None = None  # the store refused the walk (a `StoreError`)
