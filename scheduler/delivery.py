"""Sending digests, target by target, and marking what each target accepted.

Which digests are due is `scheduler.due`'s to say, and when a failed target is tried again
`scheduler.retries`'; this module claims each due target, renders and sends its digest, and
records the answer. `notify_test` sends a test message to each target of a subscriber.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from notify.errors import DeliveryError
from notify.views import DeliveryAlert
from scheduler import compat, due, logs, retries
from scheduler.alerts import send_alert
from scheduler.config import SubscriberConfig
from scheduler.config_values import interval_seconds
from scheduler.context import Context
from scheduler.logs import LOG
from storage import ledger

if TYPE_CHECKING:
    from notify.digest import Message


@dataclass(frozen=True)
class DeliveryReport:
    subscriber: str
    target: str  # masked
    entries: int
    error: str | None
    alert_errors: tuple[str, ...] = ()


def due_batches(
    ctx: Context, names: Sequence[str] | None, now: datetime, *, spaced: bool
) -> list[ledger.Batch]:
    """Pending batches to send now: the subscriber's digest is due, or the batch holds entries a
    failed send still owes; either way not while a `spaced` run holds the target back."""
    base = interval_seconds(ctx.cfg.notify.retry_backoff)
    cap = interval_seconds(ctx.cfg.notify.retry_max_delay)
    with ctx.store.write() as session:
        batches = [
            batch
            for batch in ledger.pending(session, names)
            if retries.may_try(batch.failures, batch.last_failure_at, now, base, cap, spaced=spaced)
        ]
        subscribers = {batch.subscriber for batch in batches}
        states = ledger.subscriber_states(session, subscribers)
    configured = {sub.name: sub for sub in ctx.cfg.subscribers}
    on_time = {name for name, state in states.items() if _due(configured[name], state, now, ctx)}
    return [b for b in batches if b.subscriber in on_time or any(e["attempts"] for e in b.entries)]


def _due(sub: SubscriberConfig, state: ledger.SubscriberState, now: datetime, ctx: Context) -> bool:
    since = state.last_digest_at or state.first_seen
    return due.is_due(sub.digest, sub.quiet_hours, since, now, ctx.zone)


def deliver(
    ctx: Context,
    names: Sequence[str] | None = None,
    *,
    spaced: bool,
    on_sent: Callable[[DeliveryReport], None] = lambda _: None,
) -> list[DeliveryReport]:
    """Send every due digest, one message per target (a long backlog in digests of at most
    `[notify] max_digest_posts`), and record each target's answer (`on_sent` hears of each
    digest once its answer is recorded, from the sending thread)."""
    now = ctx.now()
    batches = due_batches(ctx, names, now, spaced=spaced)
    if not batches:
        return []
    _ = ctx.renderer  # built once, before the senders share it
    workers = min(ctx.cfg.notify.send_concurrency, len(batches))
    with ThreadPoolExecutor(workers, thread_name_prefix="send") as pool:
        sent = pool.map(
            lambda batch: _send_target(ctx, batch.target_id, now, spaced, on_sent), batches
        )
        reports = [report for reports in sent for report in reports]
    _record_rounds(ctx, reports, now)
    return reports


def _send_target(
    ctx: Context,
    target_id: int,
    now: datetime,
    spaced: bool,
    on_sent: Callable[[DeliveryReport], None] = lambda _: None,
) -> list[DeliveryReport]:
    """A target's pending entries, digest by digest, until all are sent or one is refused. A
    digest the target refuses as too large is split (and a single post sent shortened) rather
    than tried again unchanged."""
    reports: list[DeliveryReport] = []
    size, compact = ctx.cfg.notify.max_digest_posts, False
    while True:
        sent = _send_batch(ctx, target_id, now, size, compact=compact, spaced=spaced)
        if sent is None:
            return reports
        report, refused, more = sent
        if refused:  # halve what the target refused, not the limit: it may have owed fewer
            size, compact = max(1, refused // 2), refused == 1
            continue
        reports.append(report)
        on_sent(report)
        if report.error or not more:
            return reports


def _send_batch(
    ctx: Context, target_id: int, now: datetime, size: int, *, compact: bool, spaced: bool
) -> tuple[DeliveryReport, int, bool] | None:
    """Claim one target, send a digest of its `size` newest pending entries, record the answer:
    one short transaction per digest, committed right after the target answered (the window a
    crash could repeat a send). Returns the report, how many entries the digest the target
    refused as too large held (0: not refused so; nothing is recorded then), and whether
    entries remain."""
    from notify.digest import build
    from notify.media import medium_for

    compat.share_apprise_ssl_contexts()  # one SSL context per setting: see scheduler.compat

    with ctx.store.write() as session:
        batch = _claim(ctx, session, target_id)
        if batch is None:
            return None  # another worker is sending to it, or it was just delivered
        chunk, more = replace(batch, entries=batch.entries[:size]), len(batch.entries) > size
        url = ctx.urls[batch.url_hash]
        links = {board.name: board.url for board in ctx.cfg.boards}
        context = build(chunk.subscriber, chunk.entries, now, compact=compact, links=links)
        error = _sent(url, ctx.renderer.digest(context, medium_for(url).name))
        if error is not None and error.oversized and (len(chunk.entries) > 1 or not compact):
            LOG.info(
                "digest %s → %s: too large for it, sent in parts", batch.subscriber, batch.masked
            )
            session.rollback()
            refused = len(chunk.entries)
            return DeliveryReport(batch.subscriber, batch.masked, 0, error.reason), refused, True
        reason = error.reason if error else None
        ledger.mark(session, chunk, reason and logs.SECRETS.mask(reason), now)
        session.commit()  # the target's answer is recorded the moment it came: the crash window
        threshold = ctx.cfg.notify.failure_threshold
        change = ledger.record_health(session, chunk, reason, now, threshold)
    _log_send(ctx, chunk, reason, now, spaced)
    alert_errors = _alert(ctx, chunk, change, reason)
    report = DeliveryReport(
        chunk.subscriber, chunk.masked, len(chunk.entries), reason, alert_errors
    )
    return report, 0, more


def _claim(ctx: Context, session: Session, target_id: int) -> ledger.Batch | None:
    """The target's pending entries. On PostgreSQL its row stays locked in `session` until the
    answer is recorded (other workers skip it). SQLite has no row locks and locks the whole file
    for a writer, so there they are only read (the run-wide delivery lease keeps other runs
    out), and the writer's turn goes to recording answers, not to reading what to send."""
    if not ctx.store.is_sqlite:
        return ledger.claim(session, target_id)
    with ctx.store.read() as reader:
        batches = ledger.pending(reader, targets=[target_id])
    return batches[0] if batches else None


def _log_send(
    ctx: Context, batch: ledger.Batch, error: str | None, now: datetime, spaced: bool
) -> None:
    count = f"{len(batch.entries)} post(s)"
    about = {"subscriber": batch.subscriber, "target": batch.masked}
    if error is None:
        LOG.info("digest %s → %s: %s, ok", batch.subscriber, batch.masked, count, extra=about)
        return
    if spaced:
        base = interval_seconds(ctx.cfg.notify.retry_backoff)
        cap = interval_seconds(ctx.cfg.notify.retry_max_delay)
        until = retries.held_until(batch.failures + 1, now, base, cap)
        then = f"next try after {until:%H:%M}" if until else "tried again next cycle"
    else:
        then = "kept, and tried again by the next run"
    LOG.warning(
        "digest %s → %s: %s, failed: %s (%s)",
        *(batch.subscriber, batch.masked, count, error, then),
        extra=about,
    )


def _alert(
    ctx: Context, batch: ledger.Batch, change: str | None, error: str | None
) -> tuple[str, ...]:
    if not change:
        return ()
    alert = DeliveryAlert(
        kind="delivery_failing" if change == "failing" else "delivery_recovered",
        subscriber=batch.subscriber,
        target=batch.masked,
        error=error,
        streak=batch.failures + 1,
    )
    return tuple(send_alert(ctx, alert))


def _record_rounds(ctx: Context, reports: list[DeliveryReport], now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    for r in reports:
        said = [logs.SECRETS.mask(f"{r.target}: {r.error}")] if r.error else []
        errors.setdefault(r.subscriber, []).extend(said)
    with ctx.store.write() as session:
        ledger.record_rounds(session, errors, now)


def notify_test(ctx: Context, sub: SubscriberConfig) -> list[DeliveryReport]:
    """A short test message to each of `sub`'s targets, and each target's answer."""
    from notify.digest import Message
    from notify.masking import mask_url

    compat.share_apprise_ssl_contexts()  # one SSL context per setting: see scheduler.compat

    message = Message(
        "[boardwatch] 테스트 메시지 / test message",
        f"boardwatch can reach this target for subscriber {sub.name}.\n",
        "text",
    )
    reports = []
    for url in sub.urls:
        error = _sent(url, message)
        reports.append(DeliveryReport(sub.name, mask_url(url), 0, error.reason if error else None))
    return reports


def _sent(url: str, message: Message) -> DeliveryError | None:
    """One target's answer, for its report: None when it accepted the message."""
    from notify.send import send

    try:
        send(url, message)
    except DeliveryError as error:
        return error
    return None
