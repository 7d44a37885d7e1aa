"""`scrape run`: one process, one asyncio reactor, an APScheduler AsyncIOScheduler and one shared
AsyncCrawlerRunner. APScheduler says when each board and each scheduled digest falls due (a job
each, with an explicit id); the boards that fall due together walk in one crawl, as `scrape once`
walks them, sharing each site's politeness budget. Overlap with other processes (cron, other
workers) is kept out by the database leases, never by APScheduler.

SIGTERM / SIGINT: scheduling stops, a running crawl gets a few seconds, the process exits 0.
SIGHUP: the config is read again; if it is valid the new boards, schedules and subscribers take
over (a crawl under way finishes first), else the daemon goes on with the old one and says why.
A failed cycle (the database away, say) is one log line; the next checks the schema again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scheduler import metrics, systemd
from scheduler.config import BoardConfig, ConfigError, interval_seconds
from scheduler.context import Context, sync
from scheduler.cycle import crawl_guarded, deliver_guarded, select_boards
from scheduler.due import cron_trigger
from scheduler.feeds import write_feeds
from scheduler.logs import LOG
from storage.db import describe

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
RETRY_EVERY = 60  # seconds: failed targets' backoffs and ended quiet hours are checked this often
CRAWL_GRACE = 2.0  # seconds a running crawl may finish after SIGTERM before it is stopped
STOP_WITHIN = 3.5  # seconds from SIGTERM to return, whatever a crawl does (exit within 5 s)
GATHER = 0.2  # seconds a cycle waits for other boards falling due at the same moment


class Daemon:
    def __init__(self, ctx: Context, reload: Callable[[], Context]) -> None:
        from scrapy.crawler import AsyncCrawlerRunner

        self.ctx, self.reload = ctx, reload
        self.runner: AsyncCrawlerRunner = AsyncCrawlerRunner()
        self.due: dict[str, BoardConfig] = {}  # boards to walk in the next crawl
        self.wake, self.stopping = asyncio.Event(), asyncio.Event()
        self.recheck = False  # a cycle failed: check the database's schema before the next
        self.scheduler: Any = None

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT, then stop scheduling, finish or stop crawls, return."""
        self._signals()
        sync(self.ctx)
        self.scheduler = self._schedule()
        self.scheduler.start()
        LOG.info(
            "daemon started: %d board(s), %d scheduled digest(s); SIGTERM stops it, SIGHUP "
            "reloads the config",
            len(select_boards(self.ctx, [])),
            len(_cron_subscribers(self.ctx)),
        )
        cycles = asyncio.create_task(self._cycles())
        server = self._serve_metrics()
        systemd.notify("READY=1\nSTATUS=crawling on schedule")
        interval = systemd.watchdog_interval()
        watchdog = asyncio.create_task(systemd.feed_watchdog(interval)) if interval else None
        await self.stopping.wait()
        systemd.notify("STOPPING=1")
        LOG.info("stopping: no new jobs; a running crawl gets %.0fs to finish", CRAWL_GRACE)
        self.scheduler.shutdown(wait=False)
        await self._finish(cycles)
        if watchdog:
            watchdog.cancel()
        if server:
            server.shutdown()
        LOG.info("stopped")

    def _serve_metrics(self) -> Any:
        address = self.ctx.cfg.metrics.address
        if not address:
            return None
        try:
            server = metrics.serve(address, self.ctx.store)
        except OSError as exc:  # the port taken: the daemon still crawls and sends
            LOG.error("metrics: cannot serve on %s: %s", address, exc.strerror or exc)
            return None
        LOG.info("metrics: serving http://%s/metrics", address)
        return server

    def _signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self._reload()))

    def _schedule(self) -> Any:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone=self.ctx.zone, job_defaults=JOB_DEFAULTS)
        self._add_jobs(scheduler)
        return scheduler

    def _add_jobs(self, scheduler: Any) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        ctx, now = self.ctx, datetime.now(self.ctx.zone)
        for board in select_boards(ctx, []):
            scheduler.add_job(
                self.fall_due,
                _board_trigger(board, ctx),
                args=(board,),
                id=f"crawl:{board.name}",
                name=f"crawl {board.name}",
                next_run_time=now,
            )
        for name, expr in _cron_subscribers(ctx):
            scheduler.add_job(
                self.deliver,
                cron_trigger(expr, ctx.zone),
                args=([name],),
                id=f"digest:{name}",
                name=f"digest {name}",
            )
        scheduler.add_job(
            self.deliver,
            IntervalTrigger(seconds=RETRY_EVERY, timezone=ctx.zone),
            args=(None,),
            id="deliver:due",
            name="due digests and retries",
        )

    def fall_due(self, board: BoardConfig) -> None:
        """A board's time has come: it walks in the next crawl (once, however often it fires)."""
        self.due.setdefault(board.name, board)
        self.wake.set()

    async def _cycles(self) -> None:
        while not self.stopping.is_set():
            await self.wake.wait()
            await asyncio.sleep(GATHER)
            self.wake.clear()
            boards, self.due = list(self.due.values()), {}
            if boards and not self.stopping.is_set():
                await self.crawl(boards)

    async def crawl(self, boards: Sequence[BoardConfig]) -> None:
        """One crawl of the boards due; immediate digests right after a crawl that found posts."""
        names = ", ".join(board.name for board in boards)
        try:
            await self._recheck()
            crawls, _ = await crawl_guarded(
                self.ctx, self.runner, boards, daemon=True, stopped=self.stopping.is_set
            )
            await asyncio.to_thread(write_feeds, self.ctx, crawls)
            if any(crawl.queued for crawl in crawls):
                await deliver_guarded(self.ctx, spaced=True)
        except Exception as exc:  # the database away, and the like: one line, not a traceback
            self.recheck = True
            LOG.error("crawl of %s failed: %s", names, describe(exc))
            LOG.debug("the crawl's traceback", exc_info=True)

    async def deliver(self, names: list[str] | None) -> None:
        try:
            await self._recheck()
            await deliver_guarded(self.ctx, names, spaced=True)
        except Exception as exc:
            self.recheck = True
            LOG.error("delivery failed: %s", describe(exc))
            LOG.debug("the delivery's traceback", exc_info=True)

    async def _recheck(self) -> None:
        """After a failed cycle: the database may be back, or back empty — upgrade it again and
        mirror the boards and subscribers into it."""
        if self.recheck:
            await asyncio.to_thread(self.ctx.store.upgrade)
            await asyncio.to_thread(sync, self.ctx)
            self.recheck = False

    async def _reload(self) -> None:
        try:
            ctx = await asyncio.to_thread(self.reload)
            await asyncio.to_thread(sync, ctx)
        except ConfigError as exc:
            LOG.error("SIGHUP: configuration error, keeping the running config: %s", exc)
            return
        except Exception as exc:
            LOG.error("SIGHUP: could not reload, keeping the running config: %s", describe(exc))
            return
        self.ctx = ctx
        self.scheduler.remove_all_jobs()
        self._add_jobs(self.scheduler)
        LOG.info("SIGHUP: config reloaded: %d board(s)", len(select_boards(ctx, [])))

    async def _finish(self, cycles: asyncio.Task[None]) -> None:
        """Let a running crawl finish, or stop it; return within STOP_WITHIN seconds whatever
        happens (the promise is exit 0 within 5 s, a download hanging or not). A crawl cut short
        stores nothing of its unfinished walks: their boards are walked again by the next run."""
        self.wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_WITHIN
        try:
            await asyncio.wait_for(asyncio.shield(cycles), CRAWL_GRACE)
            return
        except TimeoutError:
            LOG.warning("stopping the crawl still running; its boards are walked again next run")
        try:  # Scrapy's stop waits for the downloads in flight, up to [crawl] timeout each
            await asyncio.wait_for(self.runner.stop(), max(deadline - loop.time(), 0.1))
            await asyncio.wait_for(cycles, max(deadline - loop.time(), 0.1))
        except TimeoutError:
            LOG.warning("the crawl did not stop in time; it is left unrecorded and walked again")
            cycles.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(cycles, 0.5)


def _board_trigger(board: BoardConfig, ctx: Context) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    if board.cron:
        return cron_trigger(board.cron, ctx.zone)
    return IntervalTrigger(seconds=interval_seconds(board.interval), timezone=ctx.zone)


def _cron_subscribers(ctx: Context) -> list[tuple[str, str]]:
    return [(s.name, s.digest) for s in ctx.cfg.subscribers if s.digest != "immediate"]
