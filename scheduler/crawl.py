"""Running board crawls in this process's reactor (Twisted's asyncio reactor).

Each crawl walks many boards with one spider; the store pipeline persists each board's walk as
it ends, and this module collects the `StoredWalk` items (Scrapy's `item_scraped` signal) and
has `scheduler.policy.verdict` judge each board's run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from scheduler.config import BoardConfig, Config
from scheduler.config.values import interval_seconds
from scheduler.policy import verdict
from scheduler.policy.verdict import CrawlReport
from scraper import compat
from scraper.items import BoardTask, BoardWalk, KnownPost, Lookup, Row, StoredWalk
from scraper.keys import site_of
from scraper.profiles import PROBE_ORDER
from scraper.settings import crawl_settings
from storage import Store, locks, posts, robots

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
T = TypeVar("T")


def settings_for(
    cfg: Config,
    store: Store | None,
    *,
    owner: str | None,
    leases: Mapping[str, str] | None = None,
    robots_known: Mapping[str, str | None] | None = None,
) -> dict[str, object]:
    """One crawl's Scrapy settings: concurrency and delay are per site, across its boards;
    `robots_known`: the sites whose robots.txt the store holds fresh (body, or None: all
    allowed)."""
    from scraper import pipelines, robots

    crawl = cfg.crawl
    settings = crawl_settings(
        user_agent=crawl.user_agent,
        obey_robots=crawl.obey_robots_txt,
        concurrency=crawl.concurrency,
        delay=crawl.delay,
        timeout=crawl.timeout,
        retries=crawl.retries,
        retry_backoff=crawl.retry_backoff,
        max_size=int(crawl.max_page_size),
    )
    settings[robots.ROBOTS_KNOWN] = dict(robots_known or {})
    settings[robots.ROBOTS_TTL] = float(interval_seconds(crawl.robots_ttl))
    if store is not None:
        settings["ITEM_PIPELINES"] = {pipelines.StorePipeline: 300}
        settings[pipelines.STORE_URL] = store.url  # a value, as Scrapy's own components get them
        settings[pipelines.OWNER] = owner
        settings[pipelines.LEASES] = dict(leases or {})
    return settings


def task_for(
    cfg: Config,
    board: BoardConfig,
    *,
    baseline: bool,
    resumed: bool = False,
    not_before: float = 0.0,
) -> BoardTask:
    return BoardTask(
        name=board.name,
        url=board.url,
        profile=cfg.profile(board.profile),
        timezone=cfg.timezone,
        max_pages=board.max_pages,
        details=board.details,
        encoding=board.encoding,
        obey_robots=cfg.crawl.obey_robots_txt,
        user_agent=cfg.crawl.user_agent,
        baseline=baseline,
        resumed=resumed,
        backfill=board.backfill,
        also_fetch=tuple(board.also_fetch),
        not_before=not_before,
    )


@dataclass
class _Collected:
    """What one crawl's signals reported: each board's item, and why the crawl closed."""

    items: dict[str, StoredWalk | BoardWalk]
    reason: str = ""  # why the spider closed; "" while it has not (a crawl cut off)
    on_stored: Callable[[StoredWalk], None] = lambda _: None  # a board's walk, once stored

    def item_scraped(self, item: object) -> None:
        if isinstance(item, StoredWalk):
            self.items[item.walk.board] = item
            self.on_stored(item)
        elif isinstance(item, BoardWalk):
            self.items[item.board] = item

    def spider_closed(self, reason: str) -> None:
        self.reason = reason


async def crawl(
    runner: AsyncCrawlerRunner,
    cfg: Config,
    tasks: Sequence[BoardTask],
    lookup: Lookup,
    store: Store | None,
    *,
    owner: str | None = None,
    leases: Mapping[str, str] | None = None,
    robots_known: Mapping[str, str | None] | None = None,
    on_stored: Callable[[StoredWalk], None] = lambda _: None,
) -> _Collected:
    """One crawl of `tasks`; with a store, each walk is stored as it ends — by `owner`, the
    holder of the leases (`leases`: board -> the lease it is crawled under), or (None) as a dry
    run whose writes are rolled back — and handed to `on_stored` then."""
    from scrapy import signals
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from scraper.spiders.board import BoardSpider

    collected = _Collected({}, on_stored=on_stored)
    known = robots_known
    if known is None:
        known = await asyncio.to_thread(_known_robots, store, tasks) if store else {}
    settings = settings_for(cfg, store, owner=owner, leases=leases, robots_known=known)
    crawler = Crawler(BoardSpider, Settings(settings))
    crawler.signals.connect(collected.item_scraped, signal=signals.item_scraped)
    crawler.signals.connect(collected.spider_closed, signal=signals.spider_closed)
    await runner.crawl(crawler, tasks=tasks, lookup=lookup)
    return collected


def _known_robots(store: Store, tasks: Sequence[BoardTask]) -> dict[str, str | None]:
    """The robots.txt of the crawl's sites that an earlier run read and is still fresh."""
    sites = {site_of(task.url) for task in tasks if task.obey_robots}
    with store.read() as session:
        return robots.fresh(session, sites, locks.now(session))


@dataclass(frozen=True)
class _Ahead:
    """What a crawl reads of the store before it starts."""

    baselined: set[str]  # boards whose first walk finished
    begun: set[str]  # boards a failed first walk began
    robots: dict[str, str | None]  # sites whose robots.txt an earlier run read, still fresh


async def crawl_boards(
    runner: AsyncCrawlerRunner,
    cfg: Config,
    boards: Sequence[BoardConfig],
    store: Store,
    *,
    owner: str | None,
    leases: Mapping[str, str] | None = None,
    not_before: Mapping[str, float] | None = None,
    stopped: Callable[[], bool] = lambda: False,
    on_board: Callable[[CrawlReport], None] = lambda _: None,
) -> list[CrawlReport]:
    """Walk `boards` in one crawl, store each walk (None: a dry run), judge each board's run —
    a board whose walk is stored at once (`on_board` hears of it then: a long crawl tells of
    each board as it finishes), the others when the crawl ends. `stopped` says whether a stop
    signal came (the daemon's SIGTERM): only that interrupts. A board in `not_before` is asked
    for no sooner than its moment (the monotonic clock): the daemon's boards not yet due."""
    lookups = posts.Lookups(store)
    sites = {site_of(b.url) for b in boards} if cfg.crawl.obey_robots_txt else set()
    ahead = await asyncio.to_thread(_read_ahead, store, [b.name for b in boards], sites, lookups)
    starts = not_before or {}
    tasks = [
        task_for(
            cfg,
            b,
            baseline=b.name not in ahead.baselined,
            resumed=b.name in ahead.begun,
            not_before=starts.get(b.name, 0.0),
        )
        for b in boards
    ]
    started, clock = datetime.now(UTC), time.monotonic()
    urls = {board.name: board.url for board in boards}
    judged: dict[str, CrawlReport] = {}

    def stored(item: StoredWalk) -> None:
        name = item.walk.board
        if name in urls and name not in judged:
            judged[name] = verdict.judge(
                name,
                urls[name],
                item,
                closed="",  # a stored walk ended as it did, however the crawl closes
                started_at=started,
                finished_at=datetime.now(UTC),
                seconds=time.monotonic() - max(clock, starts.get(name, 0.0)),  # not its wait
            )
            on_board(judged[name])

    try:
        collected = await crawl(
            runner,
            cfg,
            tasks,
            lookups,
            store,
            owner=owner,
            leases=leases,
            robots_known=ahead.robots,
            on_stored=stored,
        )
    finally:
        lookups.close()
    seconds, finished = time.monotonic() - clock, datetime.now(UTC)
    for board in boards:
        if board.name not in judged:  # its walk never ended
            judged[board.name] = verdict.judge(
                board.name,
                board.url,
                None,
                closed="shutdown" if stopped() else collected.reason,
                started_at=started,
                finished_at=finished,
                seconds=seconds,
            )
            on_board(judged[board.name])
    return [judged[board.name] for board in boards]


@dataclass(frozen=True)
class Probe:
    rows: tuple[Row, ...]
    error: str | None
    profile: str  # the profile that read the page (the best of all, without --profile)
    tried: tuple[str, ...] = ()
    heading: str = ""  # the board's name as the page shows it
    paging: str = ""  # how its pages turn, as the page's pager shows it


async def probe(cfg: Config, url: str, profile: str | None) -> Probe:
    """Fetch one list page (robots.txt permitting) and parse it, with `profile` or with the
    built-in (or configured) profile that reads it best; nothing is stored."""
    from scrapy.crawler import AsyncCrawlerRunner

    names = [profile] if profile else [*cfg.profiles, *PROBE_ORDER]
    candidates = tuple(cfg.profile(name) for name in names)
    board = BoardConfig(name="probe", url=url, profile=names[0], max_pages=1, details=False)
    task = replace(
        task_for(cfg, board, baseline=True),
        candidates=candidates,
        identify=False,  # one list page, and only that
    )
    collected = await crawl(AsyncCrawlerRunner(), cfg, [task], _nothing_stored, None)
    walk = collected.items.get("probe")
    if not isinstance(walk, BoardWalk):
        return Probe((), UNREAD, names[0], tuple(names))
    error = f"{walk.error}; {walk.error.hint}" if walk.error and walk.error.hint else walk.error
    return Probe(
        walk.rows,
        str(error) if error else None,
        walk.profile,
        tuple(names),
        walk.heading,
        walk.paging,
    )


UNREAD = "the list page could not be read (see the log above)"


class _NothingStored:
    """A probe's window on the store: nothing is stored."""

    def known(
        self, board: str, keys: Sequence[str], aliases: Sequence[str] = ()
    ) -> Mapping[str, KnownPost]:
        return {}

    def __call__(
        self, board: str, keys: Sequence[str], aliases: Sequence[str] = ()
    ) -> Mapping[str, KnownPost]:
        return {}


_nothing_stored = _NothingStored()


def _read_ahead(
    store: Store, boards: Sequence[str], sites: Collection[str], lookups: posts.Lookups
) -> _Ahead:
    """What the crawl needs of the store before it starts, in one read and a few statements for
    all its boards: which have finished or begun their first walk, the robots.txt known fresh,
    and each board's newest posts (see `storage.posts.Lookups`)."""
    with store.read() as session:
        ahead = _Ahead(
            posts.baselined(session, boards),
            posts.begun(session, boards),
            robots.fresh(session, sites, locks.now(session)) if sites else {},
        )
        lookups.preload(boards, session)
    return ahead


def run_in_reactor(main: Callable[[], Awaitable[T]]) -> T:
    """Install the asyncio reactor, run `main()` in it to the end, and return its result."""
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    compat.import_scrapy_http_handler()  # cheaply: see scraper.compat
    gc.freeze()  # what start-up built lives as long as the process: no collector passes over it
    gc.enable()  # (`scrape` starts with the collector off: see `scheduler.entry`)
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    box: dict[str, Any] = {}

    async def wrapper() -> None:
        try:
            box["result"] = await main()
        except BaseException as exc:
            box["error"] = exc
        finally:
            reactor.callLater(0, reactor.stop)

    reactor.callWhenRunning(lambda: deferred_from_coro(wrapper()))
    with _interruptible(reactor, box):
        reactor.run(installSignalHandlers=False)
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def _interruptible(reactor: Any, box: dict[str, Any]) -> Iterator[None]:
    """Ctrl-C stops the reactor where it is, and `KeyboardInterrupt` is raised once it has
    stopped — never inside a Deferred's callback, where Twisted would catch it and the run
    would hang or go on. What the run committed stays committed (`scheduler.ops.progress` says
    what). A second Ctrl-C, should stopping take long, interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if "error" in box and isinstance(box["error"], KeyboardInterrupt):
            raise KeyboardInterrupt
        box["error"] = KeyboardInterrupt()
        reactor.callFromThread(lambda: reactor.running and reactor.stop())

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
