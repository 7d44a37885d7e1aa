"""One cycle: crawl the boards in one crawl, record their health, send due digests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notify.records import BoardAlert
from scheduler import delivery, metrics
from scheduler.alerts import send_alert
from scheduler.config import BoardConfig, Config, ConfigError
from scheduler.context import Context, sync
from scheduler.crawl import crawl_boards
from scheduler.feeds import write_feeds
from scheduler.lease import Busy, lease, leases
from scheduler.logs import LOG
from scheduler.verdict import CrawlReport
from storage import locks, runs

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner


@dataclass
class CycleReport:
    crawls: list[CrawlReport] = field(default_factory=list)
    deliveries: list[delivery.DeliveryReport] = field(default_factory=list)
    alert_errors: list[str] = field(default_factory=list)
    output_errors: list[str] = field(default_factory=list)  # feeds or metrics not written

    @property
    def failed(self) -> bool:
        """A board failed, a digest was refused, an admin alert could not be delivered, or a
        feed or the metrics file could not be written."""
        return (
            any(crawl.failed for crawl in self.crawls)
            or any(d.error or d.alert_errors for d in self.deliveries)
            or bool(self.alert_errors)
            or bool(self.output_errors)
        )


PLACEHOLDER = "esg.example.kr"


def select_boards(ctx: Context, names: Sequence[str]) -> list[BoardConfig]:
    """The boards to crawl; the starter config's example address is refused before any request."""
    boards = [ctx.cfg.board(name) for name in names] or [b for b in ctx.cfg.boards if b.enabled]
    refuse_placeholders(ctx.cfg, boards)
    return boards


def refuse_placeholders(cfg: Config, boards: Sequence[BoardConfig]) -> None:
    for board in boards:
        if PLACEHOLDER in board.url:
            i = cfg.boards.index(board)
            raise ConfigError(
                cfg.path,
                f"boards[{i}].url",
                "still the example address "
                "written by `scrape init`: set the address of the board's first list page",
            )


DELIVER_WAIT = 60.0  # seconds a run waits for another run's delivery before it skips its own


async def run_once(
    ctx: Context,
    boards: Sequence[BoardConfig],
    *,
    notify: bool = True,
    dry_run: bool = False,
    runner: AsyncCrawlerRunner | None = None,
) -> CycleReport:
    from scrapy.crawler import AsyncCrawlerRunner

    sync(ctx)
    runner = runner or AsyncCrawlerRunner()
    report = CycleReport()
    report.crawls, report.alert_errors = await crawl_guarded(
        ctx, runner, boards, dry_run=dry_run, announce=notify
    )
    if not dry_run:
        report.output_errors = await asyncio.to_thread(write_feeds, ctx, report.crawls)
    if notify and not dry_run:  # a run someone started retries every failed target now
        report.deliveries = await deliver_guarded(ctx, spaced=False)
    if ctx.cfg.metrics.textfile and not dry_run:
        report.output_errors += await asyncio.to_thread(_write_metrics, ctx)
    return report


def _write_metrics(ctx: Context) -> list[str]:
    path = ctx.cfg.metrics.textfile
    try:
        metrics.write_textfile(path, ctx.store)
    except OSError as exc:
        LOG.error("metrics: could not write %s: %s", path, exc.strerror or exc)
        return [f"metrics {path}: {exc}"]
    return []


async def crawl_guarded(
    ctx: Context,
    runner: AsyncCrawlerRunner,
    boards: Sequence[BoardConfig],
    *,
    dry_run: bool = False,
    daemon: bool = False,
    announce: bool = True,
    stopped: Callable[[], bool] = lambda: False,
) -> tuple[list[CrawlReport], list[str]]:
    """Crawl the boards no other run is crawling (one lease each), in one crawl, and record
    their health. A board another run holds is skipped with a log line. Returns the reports
    and the errors of admin alerts that could not be sent."""
    alert_errors: list[str] = []
    if dry_run:
        crawls = await crawl_boards(runner, ctx.cfg, boards, ctx.store, owner=None, stopped=stopped)
    else:
        names = {f"board:{board.name}": board for board in boards}
        async with leases(ctx.store, names, ttl=ctx.lease_ttl) as held:
            await _log_skipped(ctx, [name for name in names if name not in held], daemon)
            mine = [board for name, board in names.items() if name in held]
            crawls = (
                await crawl_boards(
                    runner, ctx.cfg, mine, ctx.store, owner=held.owner, stopped=stopped
                )
                if mine
                else []
            )
            alert_errors = await asyncio.to_thread(record_health, ctx, crawls, announce)
    for crawl in crawls:
        _log_crawl(crawl, dry_run)
    return crawls, alert_errors


async def _log_skipped(ctx: Context, names: list[str], daemon: bool) -> None:
    if not names:
        return
    holders = await asyncio.to_thread(locks.holders, ctx.store, names)
    # one line for a cron run; a daemon among several workers meets this every interval
    level = logging.DEBUG if daemon else logging.INFO
    for name in names:
        board = name.removeprefix("board:")
        LOG.log(
            level,
            "%s: skipped, another run is crawling it (%s)",
            board,
            locks.who(holders.get(name)),
        )


async def deliver_guarded(
    ctx: Context, names: Sequence[str] | None = None, *, spaced: bool
) -> list[delivery.DeliveryReport]:
    """Send due digests so that no two runs ever send the same entry: on PostgreSQL each target
    is claimed with SKIP LOCKED (workers share the work); SQLite has one delivery lease."""
    if not ctx.store.is_sqlite:
        return await asyncio.to_thread(delivery.deliver, ctx, names, spaced=spaced)
    try:
        async with lease(ctx.store, "deliver", wait=DELIVER_WAIT, ttl=ctx.lease_ttl):
            return await asyncio.to_thread(delivery.deliver, ctx, names, spaced=spaced)
    except Busy as busy:
        LOG.info("deliveries skipped: another run is still delivering (%s)", busy.holder)
        return []


def record_health(ctx: Context, crawls: Sequence[CrawlReport], announce: bool = True) -> list[str]:
    """Store the runs (an interrupted one is no run); alert the admins once when a board starts
    failing and once when it recovers. Returns the alerts' delivery errors."""
    records = [
        runs.RunRecord(
            c.board, c.started_at, c.finished_at, c.pages, len(c.new), c.error, c.alarm, c.warning
        )
        for c in crawls
        if not c.interrupted
    ]
    with ctx.store.write() as session:
        threshold = ctx.cfg.notify.failure_threshold
        changes = runs.record_runs(session, records, threshold, announce=announce)
    errors: list[str] = []
    reports = {crawl.board: crawl for crawl in crawls}
    for change in changes:
        board = ctx.cfg.board(change.board)
        alert = BoardAlert(
            kind=change.change,
            board=board.name,
            title=board.display_title,
            error=reports[change.board].error,
            streak=change.streak,
        )
        errors += send_alert(ctx, alert)
    for crawl in crawls:
        if crawl.moved and announce:  # a re-keyed board: once, when it happens
            board = ctx.cfg.board(crawl.board)
            note = BoardAlert(
                kind="moved",
                board=board.name,
                title=board.display_title,
                error=crawl.warning,
                streak=0,
            )
            errors += send_alert(ctx, note)
    return errors


def _log_crawl(crawl: CrawlReport, dry_run: bool) -> None:
    pages = f"{crawl.pages} page{'s' if crawl.pages != 1 else ''}"
    result = f"error: {crawl.error}" if crawl.error else "ok"
    kind = "baseline (first crawl: only `backfill` sent), " if crawl.baseline else ""
    queued = f"{'would queue' if dry_run else 'queued'} {crawl.queued}"
    line = f"{crawl.board}: {kind}{pages}, {_found(crawl, dry_run)}, {queued}"
    level = logging.ERROR if crawl.failed else logging.INFO  # -q shows every failed board
    LOG.log(level, "%s, %.1fs, %s", line, crawl.seconds, result, extra={"board": crawl.board})
    if crawl.warning:
        LOG.warning("%s: %s", crawl.board, crawl.warning, extra={"board": crawl.board})


def _found(crawl: CrawlReport, dry_run: bool) -> str:
    """What a run stored, in words that say "stored" only of what was."""
    stored = "would store" if dry_run else "stored"
    if crawl.baseline and not crawl.new:
        return f"nothing {stored}"
    if crawl.baseline and not crawl.quiet:
        return f"{len(crawl.new)} {stored}"
    news = f"{len(crawl.new) - crawl.quiet} new"
    if crawl.quiet:
        news += f", {crawl.quiet} older {stored} silently (the rest of the first crawl)"
    return news
