"""One cycle: crawl the boards concurrently in one reactor, record health, send due digests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler import deliver
from scheduler.config import BoardConfig, ConfigError
from scheduler.context import Context, sync
from scheduler.crawl import CrawlReport, crawl_board
from scheduler.logs import LOG
from storage import runs


@dataclass
class CycleReport:
    crawls: list[CrawlReport] = field(default_factory=list)
    deliveries: list[deliver.DeliveryReport] = field(default_factory=list)
    alert_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.error for c in self.crawls) or any(d.error for d in self.deliveries)


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
    jobs = [crawl_board(runner, ctx.cfg, board, ctx.store, dry_run=dry_run) for board in boards]
    report = CycleReport(crawls=list(await asyncio.gather(*jobs)))
    for crawl in report.crawls:
        _log_crawl(crawl, dry_run)
        if not dry_run:
            report.alert_errors += await asyncio.to_thread(record_health, ctx, crawl)
    if notify and not dry_run:
        report.deliveries = await asyncio.to_thread(deliver.deliver, ctx)
    return report


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
