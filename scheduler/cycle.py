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
from scheduler.crawl import CrawlReport, crawl_boards
from scheduler.lease import Busy, lease, leases, who
from scheduler.logs import LOG
from storage import locks, runs


@dataclass
class CycleReport:
    crawls: list[CrawlReport] = field(default_factory=list)
    deliveries: list[deliver.DeliveryReport] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A board failed, a digest was refused, or an admin alert could not be delivered."""
        failures = [c.error for c in self.crawls] + [d.error for d in self.deliveries]
        return any(failures) or bool(self.alert_errors)

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
    report = CycleReport(crawls=await crawl_guarded(ctx, runner, boards, dry_run=dry_run))
    if notify and not dry_run:
        report.deliveries = await deliver_guarded(ctx)
    return report


async def crawl_guarded(
    ctx: Context,
    runner: Any,
    boards: Sequence[BoardConfig],
    *,
    dry_run: bool = False,
    daemon: bool = False,
) -> list[CrawlReport]:
    """Crawl the boards no other run is crawling (one lease each), in one crawl, and record
    their health. A board another run holds is skipped with a log line."""
    if dry_run:
        crawls = await crawl_boards(runner, ctx.cfg, boards, ctx.store, dry_run=True)
    else:
        names = {f"board:{board.name}": board for board in boards}
        async with leases(ctx.store, names, ttl=ctx.lease_ttl) as held:
            await _log_skipped(ctx, [name for name in names if name not in held], daemon)
            mine = [board for name, board in names.items() if name in held]
            crawls = (
                await crawl_boards(runner, ctx.cfg, mine, ctx.store, dry_run=False) if mine else []
            )
            await asyncio.to_thread(record_health, ctx, crawls)
    for crawl in crawls:
        _log_crawl(crawl, dry_run)
    return crawls


async def _log_skipped(ctx: Context, names: list[str], daemon: bool) -> None:
    if not names:
        return
    holders = await asyncio.to_thread(locks.holders, ctx.store, names)
    # one line for a cron run; a daemon among several workers meets this every interval
    level = logging.DEBUG if daemon else logging.INFO
    for name in names:
        board = name.removeprefix("board:")
        LOG.log(
            level, "%s: skipped, another run is crawling it (%s)", board, who(holders.get(name))
        )


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


def record_health(ctx: Context, crawls: Sequence[CrawlReport]) -> None:
    """Store the runs; alert the admins once when a board starts failing and once on recovery."""
    changes = []
    with ctx.store.session() as session:
        for crawl in crawls:
            record = runs.RunRecord(
                crawl.board,
                crawl.started_at,
                crawl.finished_at,
                crawl.pages,
                len(crawl.new),
                crawl.error,
                crawl.alarm,
            )
            change = runs.record_run(session, record, ctx.cfg.notify.failure_threshold)
            if change:
                changes.append((crawl, change, runs.streak(session, crawl.board)))
    for crawl, change, streak in changes:
        board = ctx.cfg.board(crawl.board)
        crawl.alert_errors = deliver.alert(
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
