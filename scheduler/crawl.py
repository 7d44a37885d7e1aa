"""Running board spiders in this process's reactor (Twisted's asyncio reactor)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from scheduler.config import BoardConfig, Config
from storage import Store, posts

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
T = TypeVar("T")


@dataclass
class CrawlReport:
    board: str
    started_at: datetime
    finished_at: datetime
    seconds: float
    pages: int
    new: list[dict[str, Any]]
    queued: int
    error: str | None
    alarm: bool = False
    baseline: bool = False
    alert_errors: list[str] = field(default_factory=list)


def settings_for(cfg: Config, *, dry_run: bool) -> dict[str, Any]:
    """One crawl's Scrapy settings: concurrency and delay are per site, across its boards."""
    crawl = cfg.crawl
    return {
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": False,  # the spider checks robots.txt itself before any list page
        "CONCURRENT_REQUESTS": max(16, crawl.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency,
        "DOWNLOAD_DELAY": crawl.delay,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        "RETRY_BACKOFF": crawl.retry_backoff,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "EXTENSIONS": {
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
        },
        "DOWNLOADER_MIDDLEWARES": {"scraper.middlewares.BackoffMiddleware": 560},
        "ITEM_PIPELINES": {"scraper.pipelines.StorePipeline": 300},
        "BOARDWATCH_DATABASE_URL": cfg.storage.url,
        "BOARDWATCH_DRY_RUN": dry_run,
    }


def task_for(cfg: Config, board: BoardConfig, baselined: bool) -> Any:
    from scraper.spiders.board import BoardTask

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
        detail_budget=None if baselined else board.backfill,
        backfill=board.backfill,
    )


async def crawl_boards(
    runner: Any, cfg: Config, boards: Sequence[BoardConfig], store: Store, *, dry_run: bool
) -> list[CrawlReport]:
    """Walk `boards` in one crawl; a report per board."""
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from scraper.spiders.board import BoardSpider

    baselined = await asyncio.to_thread(_baselined, store, [b.name for b in boards])
    tasks = [task_for(cfg, board, board.name in baselined) for board in boards]
    crawler = Crawler(BoardSpider, Settings(settings_for(cfg, dry_run=dry_run)))
    started, clock = datetime.now(UTC), time.monotonic()
    await runner.crawl(crawler, tasks=tasks, lookup=_lookup(store))
    seconds = time.monotonic() - clock
    spider: Any = crawler.spider
    return [_report(b.name, spider.walks[b.name].outcome, store, started, seconds) for b in boards]


async def probe(cfg: Config, url: str, profile: str) -> tuple[list[dict[str, Any]], str | None]:
    """Fetch one list page (robots.txt permitting) and parse it; nothing is stored."""
    from scrapy.crawler import AsyncCrawlerRunner, Crawler
    from scrapy.settings import Settings

    from scraper.spiders.board import BoardSpider

    board = BoardConfig(name="probe", url=url, profile=profile, max_pages=1, details=False)
    settings = settings_for(cfg, dry_run=True)
    settings["ITEM_PIPELINES"] = {"scraper.pipelines.CollectPipeline": 300}
    crawler = Crawler(BoardSpider, Settings(settings))
    task = task_for(cfg, board, baselined=True)
    await AsyncCrawlerRunner().crawl(crawler, tasks=[task], lookup=lambda board, keys: {})
    spider: Any = crawler.spider
    outcome = spider.walks["probe"].outcome
    return sorted(outcome.rows, key=lambda row: row["seq"]), outcome.error


def _lookup(store: Store) -> Callable[[str, Sequence[str]], Mapping[str, tuple[bool, str]]]:
    def lookup(board: str, keys: Sequence[str]) -> Mapping[str, tuple[bool, str]]:
        with store.session(commit=False) as session:
            return posts.lookup(session, board, keys)

    return lookup


def _report(
    board: str, outcome: Any, store: Store, started: datetime, seconds: float
) -> CrawlReport:
    ingest = outcome.ingest
    error = outcome.error
    alarm = False
    if error is None and ingest is None:
        error = "the crawl stopped before its posts were stored (see the log above)"
    elif error is None and not outcome.complete:
        error = "the walk did not finish (see the log above)"
    elif error is None and outcome.empty and _has_posts(store, board):
        error, alarm = "the list page parsed to 0 posts: has the board's layout changed?", True
    return CrawlReport(
        board=board,
        started_at=started,
        finished_at=datetime.now(UTC),
        seconds=seconds,
        pages=outcome.pages,
        new=ingest.new if ingest else [],
        queued=ingest.queued if ingest else 0,
        error=error,
        alarm=alarm,
        baseline=bool(ingest and ingest.baseline),
    )


def _baselined(store: Store, boards: Sequence[str]) -> set[str]:
    with store.session(commit=False) as session:
        return posts.baselined(session, boards)


def _has_posts(store: Store, board: str) -> bool:
    with store.session(commit=False) as session:
        bid = posts.board_id(session, board)
        return bid is not None and posts.count(session, bid) > 0


def run_in_reactor(main: Callable[[], Awaitable[T]]) -> T:
    """Install the asyncio reactor, run `main()` in it to the end, and return its result."""
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
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
    reactor.run(installSignalHandlers=False)
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]
