"""`scrape run`: one process, one asyncio reactor, an APScheduler AsyncIOScheduler and one shared
AsyncCrawlerRunner. When a board is due is the database's business, by its clock (see
`storage.claims`): each of the daemon's LANES claims the sites of due boards no other run holds —
its share of them, over the lanes of every worker present, so that workers started at any time
split them — crawls their due boards in one crawl (with the boards of their cadence falling
due within the shortest slack, each waited for until its slack before it is due: see
`storage.claims.claim`), records that they were crawled, gives the sites back and claims
again; with nothing due it sleeps until the next board falls due.
APScheduler says when each scheduled digest falls due (a job each, with an explicit id), and
retries failed targets.

SIGTERM / SIGINT: scheduling stops, a running crawl gets a few seconds, the process exits 0.
SIGHUP: the config is read again; if it is valid the new boards, schedules and subscribers take
over (a crawl under way finishes first), else the daemon goes on with the old one and says why.
A failed cycle (the database away, say) is one log line; the next checks the schema again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scheduler import delivery
from scheduler.config import ConfigError
from scheduler.context import Context, sync
from scheduler.cycle import crawl_claimed, deliver_guarded, plans_for, select_boards
from scheduler.ops import systemd
from scheduler.ops.feeds import write_feeds
from scheduler.ops.logs import LOG
from scheduler.policy.due import cron_trigger
from storage import claims, locks
from storage.db import describe

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner

    from scheduler.policy.verdict import CrawlReport
    from scheduler.web.server import Served

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
RETRY_EVERY = 60  # seconds: failed targets' backoffs and ended quiet hours are checked this often
CRAWL_GRACE = 2.0  # seconds a running crawl may finish after SIGTERM before it is stopped
STOP_WITHIN = 3.5  # seconds from SIGTERM to return, whatever a crawl does (exit within 5 s) …
SEND_WITHIN = 8.5  # … but a digest being sent is waited for up to this (exit within 10 s)
LANES = 2  # crawls a daemon runs at once, each on sites of its own (one's slow site holds no other)
MOST_SITES = 16  # the most sites one claim takes
HELD_POLL = 1.0  # seconds: how soon a due board whose site another run holds is looked at again
IDLE_POLL = 30.0  # seconds: the longest a lane sleeps (another worker's config may differ)
FAILED_PAUSE = 5.0  # seconds a lane waits after a failed claim or crawl (the database away) …
MOST_PAUSE = 300.0  # … doubled for each failure in a row, up to this


class Daemon:
    def __init__(self, ctx: Context, reload: Callable[[], Context]) -> None:
        from scrapy.crawler import AsyncCrawlerRunner

        self.ctx, self.reload = ctx, reload
        self.runner: AsyncCrawlerRunner = AsyncCrawlerRunner()
        self.plans = plans_for(ctx, select_boards(ctx, []))
        self.wakes = [asyncio.Event() for _ in range(LANES)]  # a lane's sleep ends early
        self.owners = {_owner(lane) for lane in range(LANES)}
        # the cadences (slacks) of each lane's crawl that just ended: its next claim takes the
        # boards of theirs falling due soon along (see `storage.claims.claim`)
        self.along: list[frozenset[float]] = [frozenset() for _ in range(LANES)]
        self.stopping = asyncio.Event()
        # a cycle failed (or the store could not be opened at start): open it, check its
        # schema and mirror the config into it before the next
        self.recheck = ctx.store_down is not None
        self.failures = 0  # cycles failed in a row: the pause before the next one grows
        self.scheduler: Any = None
        self.sending: asyncio.Task[None] | None = None  # immediate digests of posts just found …
        self.send_again = False  # … and more found while they were being sent

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT, then stop scheduling, finish or stop crawls, return."""
        self._signals()
        if self.ctx.store_down:
            LOG.error("%s; the daemon starts and tries again", self.ctx.store_down)
        else:
            sync(self.ctx)
        self.scheduler = self._schedule()
        self.scheduler.start()
        LOG.info(
            "daemon started: %d board(s), %d scheduled digest(s); SIGTERM stops it, SIGHUP "
            "reloads the config",
            len(select_boards(self.ctx, [])),
            len(_cron_subscribers(self.ctx)),
        )
        cycles = asyncio.ensure_future(asyncio.gather(*(self._lane(i) for i in range(LANES))))
        server = self._serve_http()
        systemd.notify("READY=1\nSTATUS=crawling on schedule")
        interval = systemd.watchdog_interval()
        watchdog = asyncio.create_task(systemd.feed_watchdog(interval)) if interval else None
        await self.stopping.wait()
        stopped_at = asyncio.get_running_loop().time()
        systemd.notify("STOPPING=1")
        LOG.info("stopping: no new jobs; a running crawl gets %.0fs to finish", CRAWL_GRACE)
        delivery.SENDS.stop()
        self.scheduler.shutdown(wait=False)
        await self._finish(cycles)
        await self._finish_sends(stopped_at)
        if watchdog:
            watchdog.cancel()
        if server:
            server.stop()
        LOG.info("stopped")

    def _serve_http(self) -> Served | None:
        """The HTTP port (`[http] address`): status page, /healthz, /metrics, unsubscribe."""
        from scheduler.web.app import App
        from scheduler.web.server import serve

        address = self.ctx.cfg.http_address
        if not address:
            return None
        try:
            server = serve(address, App(lambda: self.ctx))
        except OSError as exc:  # the port taken: the daemon still crawls and sends
            LOG.error("http: cannot serve on %s: %s", address, exc.strerror or exc)
            return None
        LOG.info("http: serving http://%s/ (status page, /healthz, /metrics)", address)
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

        ctx = self.ctx
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

    async def _lane(self, lane: int) -> None:
        """Claim, crawl, record, give back, again; with nothing due, sleep until something is."""
        while not self.stopping.is_set():
            self.wakes[lane].clear()
            wait = await self._turn(lane)
            if wait > 0 and not self.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakes[lane].wait(), wait)
        with contextlib.suppress(Exception):  # its share goes to the other lanes at once
            await asyncio.to_thread(claims.leave, self.ctx.store, self.lane(_owner(lane)))

    @staticmethod
    def lane(owner: str) -> claims.Lane:
        return claims.Lane(owner, present_for=2 * IDLE_POLL, most=MOST_SITES)

    def _wake_all(self) -> None:
        for wake in self.wakes:
            wake.set()

    async def _turn(self, lane: int) -> float:
        """One claim and its crawl; returns how long to sleep before the next claim."""
        owner = _owner(lane)
        try:
            await self._recheck()
            taken = await asyncio.to_thread(
                claims.claim,
                self.ctx.store,
                self.plans,
                owner,
                self.ctx.lease_ttl,
                lane=self.lane(owner),
                along=self.along[lane],
            )
        except Exception as exc:  # the database away, and the like: one line, not a traceback
            self.recheck = True
            LOG.error("claiming due boards failed: %s", describe(exc))
            LOG.debug("the claim's traceback", exc_info=True)
            return self._failed()
        self.failures = 0
        self.along[lane] = frozenset(
            self.plans[name].slack for name in taken.boards if name in self.plans
        )
        if taken.sites:
            crawled = await self.crawl(taken)
            self._wake_all()  # a lane waiting for these sites looks again now
            return 0.0 if crawled else self._failed()
        wait = IDLE_POLL
        if taken.next_due is not None:
            wait = min(wait, (taken.next_due - taken.at).total_seconds())
        if set(taken.waiting.values()) - self.owners:  # another run's crawl may end any moment
            wait = min(wait, HELD_POLL)  # (this daemon's own lanes wake the others when done)
        return max(wait, 0.05)

    def _failed(self) -> float:
        """The pause after a failed cycle: FAILED_PAUSE, doubled for each failure in a row, up
        to MOST_PAUSE — a store away for hours is tried on, not hammered."""
        self.failures += 1
        return float(min(FAILED_PAUSE * 2 ** (self.failures - 1), MOST_PAUSE))

    async def crawl(self, taken: claims.Claim) -> bool:
        """One crawl of a claim's boards, then the immediate digests of what it found — one
        sending for the boards asked for at once; when the crawl waits for a board not yet due
        (`Claim.starts`), that sending goes as soon as they are all stored, and each board
        waited for that finds posts is sent for as it is stored. The crawl ends once what it
        found is sent. False when it failed (the database away)."""
        names = ", ".join(taken.boards)
        at_once = {name for name in taken.boards if name not in taken.starts}
        stored: set[str] = set()
        found = False  # posts queued that no sending started since has covered
        sent = False  # this crawl started a sending

        def told(crawl: CrawlReport) -> None:
            nonlocal found, sent
            stored.add(crawl.board)
            found = found or bool(crawl.queued)
            if found and taken.starts and at_once <= stored:
                found, sent = False, True
                self._send_soon()

        try:
            crawls, _ = await crawl_claimed(
                self.ctx,
                self.runner,
                taken,
                self.plans,
                stopped=self.stopping.is_set,
                on_board=told,
            )
            await asyncio.to_thread(write_feeds, self.ctx.cfg, self.ctx.store, crawls)
            if found:
                sent = True
                self._send_soon()
            if sent and self.sending is not None:
                await asyncio.shield(self.sending)
        except Exception as exc:  # the database away, and the like: one line, not a traceback
            self.recheck = True
            LOG.error("crawl of %s failed: %s", names, describe(exc))
            LOG.debug("the crawl's traceback", exc_info=True)
            return False
        return True

    def _send_soon(self) -> None:
        """Send the immediate digests now — or, if they are being sent, once more after."""
        if self.stopping.is_set():  # no new digest after a stop signal
            return
        if self.sending is not None and not self.sending.done():
            self.send_again = True
            return
        self.sending = asyncio.ensure_future(self._send_found())

    async def _send_found(self) -> None:
        again = True
        while again:
            self.send_again = False
            await self.deliver(None)
            again = self.send_again

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
        self.ctx, self.plans = ctx, plans_for(ctx, select_boards(ctx, []))
        self._wake_all()  # sleeping lanes look at the new boards now
        self.scheduler.remove_all_jobs()
        self._add_jobs(self.scheduler)
        LOG.info("SIGHUP: config reloaded: %d board(s)", len(select_boards(ctx, [])))

    async def _finish_sends(self, stopped_at: float) -> None:
        """Wait for the digests being sent (their servers have them, their answers are due) up
        to SEND_WITHIN seconds after the stop signal, so what they accept is recorded and not
        sent again; one still unanswered then is said to be possibly delivered."""
        left = max(SEND_WITHIN - (asyncio.get_running_loop().time() - stopped_at), 0.0)
        for target in await asyncio.to_thread(delivery.SENDS.wait, left):
            LOG.warning(
                "stopped while sending to %s: its server had not answered; the digest may have "
                "been delivered, and is sent again by the next run (not recorded as delivered)",
                target,
            )

    async def _finish(self, cycles: asyncio.Future[Any]) -> None:
        """Let a running crawl finish, or stop it; return within STOP_WITHIN seconds whatever
        happens (the promise is exit 0 within 5 s, a download hanging or not). A crawl cut short
        stores nothing of its unfinished walks: their boards are walked again by the next run."""
        self._wake_all()
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


def _owner(lane: int) -> str:
    """Who a lane is, in its claims and leases (the same for the process's life)."""
    return locks.owner_id(f"lane{lane}")


def _cron_subscribers(ctx: Context) -> list[tuple[str, str]]:
    return [(s.name, s.digest) for s in ctx.cfg.subscribers if s.digest != "immediate"]
