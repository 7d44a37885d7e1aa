"""Running board spiders in this process's reactor (Twisted's asyncio reactor)."""

from __future__ import annotations

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


def settings_for(cfg: Config, board: BoardConfig, *, dry_run: bool) -> dict[str, Any]:
    crawl = cfg.crawl
    return {
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": False,  # the spider checks robots.txt itself before any list page
        "CONCURRENT_REQUESTS": crawl.concurrency,
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
        "BOARDWATCH_BACKFILL": board.backfill,
        "BOARDWATCH_DRY_RUN": dry_run,
    }


async def crawl_board(
    runner: Any, cfg: Config, board: BoardConfig, store: Store, *, dry_run: bool
) -> CrawlReport:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from scraper.spiders.board import BoardSpider, BoardTask

    task = BoardTask(
        name=board.name,
        url=board.url,
        profile=cfg.profile(board.profile),
        timezone=cfg.timezone,
        max_pages=board.max_pages,
        details=board.details,
        encoding=board.encoding,
        obey_robots=cfg.crawl.obey_robots_txt,
        user_agent=cfg.crawl.user_agent,
        detail_budget=None if _baselined(store, board.name) else board.backfill,
    )
    crawler = Crawler(BoardSpider, Settings(settings_for(cfg, board, dry_run=dry_run)))
    started, clock = datetime.now(UTC), time.monotonic()
    await runner.crawl(crawler, task=task, lookup=_lookup(store, board.name))
    spider: Any = crawler.spider
    return _report(board.name, spider.outcome, store, started, time.monotonic() - clock)


async def probe(cfg: Config, url: str, profile: str) -> tuple[list[dict[str, Any]], str | None]:
    """Fetch one list page (robots.txt permitting) and parse it; nothing is stored."""
    from scrapy.crawler import AsyncCrawlerRunner, Crawler
    from scrapy.settings import Settings

    from scraper.spiders.board import BoardSpider, BoardTask

    task = BoardTask(
        name="probe",
        url=url,
        profile=cfg.profile(profile),
        timezone=cfg.timezone,
        max_pages=1,
        details=False,
        obey_robots=cfg.crawl.obey_robots_txt,
        user_agent=cfg.crawl.user_agent,
    )
    board = BoardConfig(name="probe", url=url, profile=profile)
    settings = settings_for(cfg, board, dry_run=True)
    settings["ITEM_PIPELINES"] = {"scraper.pipelines.CollectPipeline": 300}
    crawler = Crawler(BoardSpider, Settings(settings))
    await AsyncCrawlerRunner().crawl(crawler, task=task, lookup=lambda keys: {})
    spider: Any = crawler.spider
    rows = sorted(spider.outcome.rows, key=lambda row: row["seq"])
    return rows, spider.outcome.error


def _lookup(store: Store, board: str) -> Callable[[Sequence[str]], Mapping[str, bool]]:
    def lookup(keys: Sequence[str]) -> Mapping[str, bool]:
        with store.session() as session:
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


def _baselined(store: Store, board: str) -> bool:
    with store.session() as session:
        return posts.baselined(session, board)


def _has_posts(store: Store, board: str) -> bool:
    with store.session() as session:
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
