"""`scrape run`: one process, one asyncio reactor, an APScheduler AsyncIOScheduler and one shared
AsyncCrawlerRunner. A job per board and per scheduled digest; overlap with other processes (cron,
other workers) is kept out by the database leases, never by APScheduler."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from typing import Any

from scheduler.config import BoardConfig, interval_seconds
from scheduler.context import Context, sync
from scheduler.cycle import crawl_guarded, deliver_guarded, select_boards
from scheduler.due import cron_trigger
from scheduler.logs import LOG

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
RETRY_EVERY = 60  # seconds: failed targets' backoffs and ended quiet hours are checked this often
CRAWL_GRACE = 5.0  # seconds a running crawl may finish after SIGTERM before it is stopped


async def serve(ctx: Context) -> None:
    """Run until SIGTERM or SIGINT, then stop scheduling, finish or stop crawls, and return."""
    from scrapy.crawler import AsyncCrawlerRunner

    sync(ctx)
    runner = AsyncCrawlerRunner()
    stopping = _stop_event()
    scheduler = _scheduler(ctx, runner)
    scheduler.start()
    LOG.info(
        "daemon started: %d board(s), %d scheduled digest(s); SIGTERM stops it",
        len(select_boards(ctx, [])),
        len(_cron_subscribers(ctx)),
    )
    await stopping.wait()
    LOG.info("stopping: no new jobs; running crawls get %.0fs to finish", CRAWL_GRACE)
    scheduler.shutdown(wait=False)
    await _finish(runner)
    LOG.info("stopped")


def _stop_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event


def _scheduler(ctx: Context, runner: Any) -> Any:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = AsyncIOScheduler(timezone=ctx.zone, job_defaults=JOB_DEFAULTS)
    now = datetime.now(ctx.zone)
    for board in select_boards(ctx, []):
        scheduler.add_job(
            crawl_job,
            _board_trigger(board, ctx),
            args=(ctx, runner, board),
            id=f"crawl:{board.name}",
            name=f"crawl {board.name}",
            next_run_time=now,
        )
    for name, expr in _cron_subscribers(ctx):
        scheduler.add_job(
            deliver_job,
            cron_trigger(expr, ctx.zone),
            args=(ctx, [name]),
            id=f"digest:{name}",
            name=f"digest {name}",
        )
    scheduler.add_job(
        deliver_job,
        IntervalTrigger(seconds=RETRY_EVERY, timezone=ctx.zone),
        args=(ctx, None),
        id="deliver:due",
        name="due digests and retries",
    )
    return scheduler


def _board_trigger(board: BoardConfig, ctx: Context) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    if board.cron:
        return cron_trigger(board.cron, ctx.zone)
    return IntervalTrigger(seconds=interval_seconds(board.interval), timezone=ctx.zone)


def _cron_subscribers(ctx: Context) -> list[tuple[str, str]]:
    return [(s.name, s.digest) for s in ctx.cfg.subscribers if s.digest != "immediate"]


async def crawl_job(ctx: Context, runner: Any, board: BoardConfig) -> None:
    """Crawl one board; immediate subscribers are served right after a crawl that found posts."""
    crawls, _ = await crawl_guarded(ctx, runner, [board], daemon=True)
    if any(crawl.queued for crawl in crawls):
        await deliver_guarded(ctx)


async def deliver_job(ctx: Context, names: list[str] | None) -> None:
    await deliver_guarded(ctx, names)


async def _finish(runner: Any) -> None:
    try:
        await asyncio.wait_for(runner.join(), CRAWL_GRACE)
    except TimeoutError:
        LOG.warning("stopping the crawls still running; their boards are finished next run")
        await asyncio.wait_for(runner.stop(), CRAWL_GRACE)
