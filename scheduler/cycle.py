"""One cycle: crawl the boards in one crawl, record their health, send due digests."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from notify.errors import DeliveryError
from notify.views import BoardAlert
from records.errors import BoardwatchError
from scheduler import delivery
from scheduler.config import BoardConfig, Config, ConfigError
from scheduler.config.values import interval_seconds
from scheduler.context import Context, sync
from scheduler.crawl import crawl_boards
from scheduler.delivery import send_alert
from scheduler.ops import metrics
from scheduler.ops.feeds import write_feeds
from scheduler.ops.logs import LOG
from scheduler.ops.progress import Progress
from scheduler.policy.due import cron_trigger
from scheduler.policy.holding import Busy, holding, lease
from scheduler.policy.verdict import CrawlReport
from scraper.keys import site_of
from storage import claims, locks, runs

if TYPE_CHECKING:
    from scrapy.crawler import AsyncCrawlerRunner


@dataclass
class CycleReport:
    crawls: list[CrawlReport] = field(default_factory=list)
    deliveries: list[delivery.DeliveryReport] = field(default_factory=list)
    alert_errors: list[DeliveryError] = field(default_factory=list)
    output_errors: list[BoardwatchError] = field(default_factory=list)  # feeds, metrics unwritten

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
    progress: Progress | None = None,
) -> CycleReport:
    """`scrape once`: crawl `boards`, store what is new, send what is due; `progress` hears of
    each board and each digest as it is committed (what Ctrl-C leaves done)."""
    from scrapy.crawler import AsyncCrawlerRunner

    sync(ctx)
    runner = runner or AsyncCrawlerRunner()
    progress = progress or Progress()
    sends = notify and not dry_run
    progress.boards, progress.sending = (0 if dry_run else len(boards)), "later" if sends else "no"
    report = CycleReport()
    report.crawls, report.alert_errors = await crawl_guarded(
        ctx, runner, boards, dry_run=dry_run, announce=notify, on_board=progress.board_done
    )
    if not dry_run:
        report.output_errors = await asyncio.to_thread(
            write_feeds, ctx.cfg, ctx.store, report.crawls
        )
    if sends:  # a run someone started retries every failed target now
        progress.sending = "now"
        report.deliveries = await deliver_guarded(ctx, spaced=False, on_sent=progress.digest_done)
        progress.sending = "done"
    if ctx.cfg.metrics.textfile and not dry_run:
        report.output_errors += await asyncio.to_thread(_write_metrics, ctx)
    return report


def _write_metrics(ctx: Context) -> list[BoardwatchError]:
    path = ctx.cfg.metrics.textfile
    try:
        metrics.write_textfile(path, ctx.store)
    except OSError as exc:
        LOG.error("metrics: could not write %s: %s", path, exc.strerror or exc)
        return [BoardwatchError(f"metrics {path}: {exc}")]
    return []


async def crawl_guarded(
    ctx: Context,
    runner: AsyncCrawlerRunner,
    boards: Sequence[BoardConfig],
    *,
    dry_run: bool = False,
    announce: bool = True,
    stopped: Callable[[], bool] = lambda: False,
    on_board: Callable[[CrawlReport], None] = lambda _: None,
) -> tuple[list[CrawlReport], list[DeliveryError]]:
    """Crawl `boards` now (`scrape once`): the sites no other run holds, each held for the
    crawl (see `storage.claims`), in one crawl, and record their health. A board whose site
    another run holds is skipped with a log line. Returns the reports and the errors of admin
    alerts that could not be sent."""
    if dry_run:

        def told(crawl: CrawlReport) -> None:
            _log_crawl(crawl, dry_run)
            on_board(crawl)

        crawls = await crawl_boards(
            runner, ctx.cfg, boards, ctx.store, owner=None, stopped=stopped, on_board=told
        )
        return crawls, []
    plans = plans_for(ctx, boards)
    owner = locks.owner_id(uuid.uuid4().hex[:8])
    taken = await asyncio.to_thread(
        claims.claim, ctx.store, plans, owner, ctx.lease_ttl, due_only=False
    )
    for name, holder in taken.waiting.items():
        LOG.info(
            "%s: skipped, another run is crawling its site (%s); the next run crawls it",
            name,
            locks.who(holder),
        )
    return await crawl_claimed(
        ctx, runner, taken, plans, announce=announce, stopped=stopped, on_board=on_board
    )


async def crawl_claimed(
    ctx: Context,
    runner: AsyncCrawlerRunner,
    taken: claims.Claim,
    plans: Mapping[str, claims.Plan],
    *,
    announce: bool = True,
    stopped: Callable[[], bool] = lambda: False,
    on_board: Callable[[CrawlReport], None] = lambda _: None,
) -> tuple[list[CrawlReport], list[DeliveryError]]:
    """Crawl the boards of a claim while holding its sites, record each board's run and when it
    was crawled, then give the sites back (lingering for the crawl's delay). Each board's line
    is logged as the board finishes (a long run tells as it goes), and `on_board` hears of it."""
    if not taken.sites:
        return [], []

    def told(crawl: CrawlReport) -> None:
        _log_crawl(crawl, False)
        on_board(crawl)

    boards = [ctx.cfg.board(name) for name in taken.boards]
    leases = {name: claims.lease_name(plans[name].site) for name in taken.boards}
    not_before = {
        name: taken.clock + (start - taken.at).total_seconds()
        for name, start in taken.starts.items()
    }
    async with holding(
        ctx.store, taken.owner, len(taken.sites), ttl=ctx.lease_ttl, linger=ctx.cfg.crawl.delay
    ):
        crawls = (
            await crawl_boards(
                runner,
                ctx.cfg,
                boards,
                ctx.store,
                owner=taken.owner,
                leases=leases,
                not_before=not_before,
                stopped=stopped,
                on_board=told,
            )
            if boards
            else []
        )
        alert_errors = await asyncio.to_thread(record_health, ctx, crawls, announce, taken)
    return crawls, alert_errors


SLACK = 20  # a board may be crawled up to a twentieth of its interval before it falls due …
MOST_SLACK = 300.0  # … and at most this many seconds before
CRON_SLACK = 1.0  # seconds: a board crawled at cron times is crawled at most this much sooner


def plans_for(ctx: Context, boards: Sequence[BoardConfig]) -> dict[str, claims.Plan]:
    """Each board's site, when it falls due again after a crawl at a given moment, and how much
    sooner it may be crawled (so that boards falling due close together walk together)."""
    return {
        board.name: claims.Plan(site_of(board.url), _due_after(board, ctx), _slack(board))
        for board in boards
    }


def _slack(board: BoardConfig) -> float:
    if board.cron:
        return CRON_SLACK
    return min(interval_seconds(board.interval) / SLACK, MOST_SLACK)


def _due_after(board: BoardConfig, ctx: Context) -> Callable[[datetime], datetime]:
    if board.cron:
        trigger = cron_trigger(board.cron, ctx.zone)

        def next_time(at: datetime) -> datetime:
            fire = trigger.get_next_fire_time(None, at.astimezone(ctx.zone) + timedelta(seconds=1))
            return datetime.max.replace(tzinfo=UTC) if fire is None else fire.astimezone(UTC)

        return next_time
    every = timedelta(seconds=interval_seconds(board.interval))
    return lambda at: at + every


async def deliver_guarded(
    ctx: Context,
    names: Sequence[str] | None = None,
    *,
    spaced: bool,
    on_sent: Callable[[delivery.DeliveryReport], None] = lambda _: None,
) -> list[delivery.DeliveryReport]:
    """Send due digests so that no two runs ever send the same entry: where the store claims
    rows each target is claimed (`storage.ledger.claim`: workers share the work); elsewhere one
    run at a time delivers, under a lease."""
    send = functools.partial(delivery.deliver, ctx, names, spaced=spaced, on_sent=on_sent)
    if ctx.store.claims_rows:
        return await asyncio.to_thread(send)
    try:
        async with lease(ctx.store, "deliver", wait=DELIVER_WAIT, ttl=ctx.lease_ttl):
            return await asyncio.to_thread(send)
    except Busy as busy:
        LOG.info("deliveries skipped: another run is still delivering (%s)", busy.holder)
        return []


def record_health(
    ctx: Context,
    crawls: Sequence[CrawlReport],
    announce: bool = True,
    taken: claims.Claim | None = None,
) -> list[DeliveryError]:
    """Store the runs (an interrupted one is no run) and, with the claim they were crawled under
    (`taken`), when each was crawled: by the database's clock, when its own list page answered
    (a board whose page never did: when it could first be asked for — the claim's time, or a
    board waited for, its start); alert the admins once when a board starts failing and once
    when it recovers. Returns the alerts' delivery errors."""
    records = [
        runs.RunRecord(
            board=c.board,
            started_at=c.started_at,
            finished_at=c.finished_at,
            pages=c.pages,
            new_posts=len(c.new),
            error=_shown(c.error),
            alarm=c.alarm,
            warning=c.warning,
        )
        for c in crawls
        if not c.interrupted
    ]
    with ctx.store.write() as session:
        threshold = ctx.cfg.notify.failure_threshold
        changes = runs.record_runs(session, records, threshold, announce=announce)
        if taken is not None:
            done = {  # a board waited for whose page never answered: when it was asked for
                c.board: taken.when(c.fetched) if c.fetched else taken.starts.get(c.board, taken.at)
                for c in crawls
                if not c.interrupted
            }
            claims.crawled(session, done)
    errors: list[DeliveryError] = []
    reports = {crawl.board: crawl for crawl in crawls}
    for change in changes:
        board = ctx.cfg.board(change.board)
        alert = BoardAlert(
            kind=change.change,
            board=board.name,
            title=board.display_title,
            error=_shown(reports[change.board].error),
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
    result = f"error: {crawl.error.shown()}" if crawl.error else "ok"
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


def _shown(error: BoardwatchError | None) -> str | None:
    return error.shown() if error else None
