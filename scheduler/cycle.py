"""One cycle: crawl the boards concurrently in one reactor, record health, send due digests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler import deliver
from scheduler.config import BoardConfig, ConfigError
from scheduler.context import Context, sync
from scheduler.crawl import CrawlReport, crawl_board
from scheduler.lease import Busy, lease
from scheduler.logs import LOG
from storage import runs


@dataclass
class CycleReport:
    crawls: list[CrawlReport] = field(default_factory=list)
    deliveries: list[deliver.DeliveryReport] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.error for c in self.crawls) or any(d.error for d in self.deliveries)

    @property
    def alert_errors(self) -> list[str]:
        return [error for crawl in self.crawls for error in crawl.alert_errors]


PLACEHOLDER = "esg.example.kr"


def select_boards(ctx: Context, names: Sequence[str]) -> list[BoardConfig]:
    """The boards to crawl; the starter config's example address is refused before any request."""
    boards = [ctx.cfg.board(name) for name in names] or [b for b in ctx.cfg.boards if b.enabled]
    for board in boards:
        if PLACEHOLDER in board.url:
            i = ctx.cfg.boards.index(board)
            raise ConfigError(
                ctx.cfg.path,
                f"boards[{i}].url",
                "still the example address "
                "written by `scrape init`: set the address of the board's first list page",
            )
    return boards


DELIVER_WAIT = 60.0  # seconds a run waits for another run's delivery before it skips its own


async def run_once(
    ctx: Context,
    boards: Sequence[BoardConfig],
    *,
    notify: bool = True,
    dry_run: bool = False,
    runner: Any = None,
) -> CycleReport:
    from scrapy.crawler import AsyncCrawlerRunner

    sync(ctx)
    runner = runner or AsyncCrawlerRunner()
    jobs = [crawl_guarded(ctx, runner, board, dry_run=dry_run) for board in boards]
    report = CycleReport(crawls=[c for c in await asyncio.gather(*jobs) if c is not None])
    if notify and not dry_run:
        report.deliveries = await deliver_guarded(ctx)
    return report


async def crawl_guarded(
    ctx: Context, runner: Any, board: BoardConfig, *, dry_run: bool = False, daemon: bool = False
) -> CrawlReport | None:
    """Crawl one board under its lease and record its health; None when another run has it."""
    if dry_run:
        crawl = await crawl_board(runner, ctx.cfg, board, ctx.store, dry_run=True)
    else:
        try:
            async with lease(ctx.store, f"board:{board.name}", ttl=ctx.lease_ttl):
                crawl = await crawl_board(runner, ctx.cfg, board, ctx.store, dry_run=False)
                crawl.alert_errors = await asyncio.to_thread(record_health, ctx, crawl)
        except Busy as busy:
            # one line for a cron run; a daemon among several workers meets this every interval
            level = logging.DEBUG if daemon else logging.INFO
            LOG.log(level, "%s: skipped, another run is crawling it (%s)", board.name, busy.holder)
            return None
    _log_crawl(crawl, dry_run)
    return crawl


async def deliver_guarded(
    ctx: Context, names: Sequence[str] | None = None, *, retry_now: bool = False
) -> list[deliver.DeliveryReport]:
    """Send due digests so that no two runs ever send the same entry: on PostgreSQL each target
    is claimed with SKIP LOCKED (workers share the work); SQLite has one delivery lease."""
    if not ctx.store.is_sqlite:
        return await asyncio.to_thread(deliver.deliver, ctx, names, retry_now=retry_now)
    try:
        async with lease(ctx.store, "deliver", wait=DELIVER_WAIT, ttl=ctx.lease_ttl):
            return await asyncio.to_thread(deliver.deliver, ctx, names, retry_now=retry_now)
    except Busy as busy:
        LOG.info("deliveries skipped: another run is still delivering (%s)", busy.holder)
        return []


def record_health(ctx: Context, crawl: CrawlReport) -> list[str]:
    """Store the run; alert the admins once when a board starts failing and once on recovery."""
    record = runs.RunRecord(
        crawl.board,
        crawl.started_at,
        crawl.finished_at,
        crawl.pages,
        len(crawl.new),
        crawl.error,
        crawl.alarm,
    )
    with ctx.store.session() as session:
        change = runs.record_run(session, record, ctx.cfg.notify.failure_threshold)
        streak = runs.streak(session, crawl.board)
    if change is None:
        return []
    board = ctx.cfg.board(crawl.board)
    return deliver.alert(
        ctx,
        {
            "kind": change,
            "board": board.name,
            "title": board.display_title,
            "error": crawl.error,
            "streak": streak,
        },
    )


def _log_crawl(crawl: CrawlReport, dry_run: bool) -> None:
    pages = f"{crawl.pages} page{'s' if crawl.pages != 1 else ''}"
    result = f"error: {crawl.error}" if crawl.error else "ok"
    verb = "would queue" if dry_run else "queued"
    kind = "baseline (first crawl: stored, only `backfill` sent), " if crawl.baseline else ""
    line = f"{crawl.board}: {kind}{pages}, {len(crawl.new)} new, {verb} {crawl.queued}"
    LOG.info("%s, %.1fs, %s", line, crawl.seconds, result)
