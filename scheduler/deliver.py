"""Which digests are due, sending them target by target, and marking what each target accepted."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from scheduler.config import SubscriberConfig
from scheduler.context import Context
from scheduler.logs import LOG
from storage import ledger


@dataclass(frozen=True)
class DeliveryReport:
    subscriber: str
    target: str  # masked
    entries: int
    error: str | None


def due_batches(
    ctx: Context, names: Sequence[str] | None, now: datetime, *, retry_now: bool = False
) -> list[ledger.Batch]:
    """Pending batches of subscribers whose digest is due; a batch that failed is always due."""
    with ctx.store.session() as session:
        batches = ledger.pending(session, names)
        batches = [b for b in batches if retry_now or not _backing_off(ctx, b, now)]
        due = {b.subscriber for b in batches if _due(ctx, session, b.subscriber, now)}
    return [b for b in batches if b.subscriber in due or any(e["attempts"] for e in b.entries)]


def _backing_off(ctx: Context, batch: ledger.Batch, now: datetime) -> bool:
    if not batch.failures or batch.last_failure_at is None:
        return False
    wait = ctx.cfg.notify.retry_delay(batch.failures)
    return now < batch.last_failure_at + timedelta(seconds=wait)


def _due(ctx: Context, session: Any, name: str, now: datetime) -> bool:
    sub = ctx.cfg.subscriber(name)
    if sub.digest == "immediate":
        return not in_quiet_hours(sub.quiet_hours, now)
    record = ledger.subscriber(session, name)
    return cron_fired(sub.digest, ctx.zone, record.last_digest_at or record.first_seen, now)


def in_quiet_hours(window: str | None, now: datetime) -> bool:
    if not window:
        return False
    start, end = (time.fromisoformat(part.strip().zfill(5)) for part in window.split("-"))
    at = now.time().replace(tzinfo=None)
    return start <= at < end if start <= end else (at >= start or at < end)


def cron_fired(expr: str, zone: Any, since: datetime, now: datetime) -> bool:
    """Has a fire time of `expr` passed in (since, now]?"""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(expr, timezone=zone)
    fire = trigger.get_next_fire_time(None, since + timedelta(seconds=1))
    return fire is not None and fire <= now


def deliver(
    ctx: Context, names: Sequence[str] | None = None, *, retry_now: bool = False
) -> list[DeliveryReport]:
    """Send every due digest, one message per target, and record each target's answer.

    `retry_now` (an operator's `scrape digest`) retries failing targets without their backoff.
    """
    now = ctx.now()
    due = due_batches(ctx, names, now, retry_now=retry_now)
    if not due:
        return []
    _ = ctx.renderer  # built once, before the senders share it
    workers = min(ctx.cfg.notify.send_concurrency, len(due))
    with ThreadPoolExecutor(workers, thread_name_prefix="send") as pool:
        sent = pool.map(lambda batch: _send_batch(ctx, batch.target_id, now), due)
        reports = [report for report in sent if report]
    _record_rounds(ctx, reports, now)
    return reports


def _send_batch(ctx: Context, target_id: int, now: datetime) -> DeliveryReport | None:
    """Claim one target, send its digest, record the answer: one short transaction per target,
    committed right after the target answered (the window a crash could repeat a send)."""
    from notify.digest import build, medium_for
    from notify.send import send

    with ctx.store.session() as session:
        batch = ledger.claim(session, target_id)
        if batch is None:
            return None  # another worker is sending to it, or it was just delivered
        if ctx.store.is_sqlite:
            session.commit()  # SQLite locks the whole file: never hold it across a network send
        url = ctx.urls[batch.url_hash]
        message = ctx.renderer.digest(build(batch.subscriber, batch.entries, now), medium_for(url))
        outcome = send(url, message)
        threshold = ctx.cfg.notify.failure_threshold
        change = ledger.record_attempt(session, batch, outcome.error, now, threshold)
    result = "ok" if outcome.ok else f"failed: {outcome.error}"
    LOG.info(
        "digest %s → %s: %d post(s), %s", batch.subscriber, batch.masked, len(batch.entries), result
    )
    if change:
        alert(
            ctx,
            {
                "kind": f"delivery_{change}",
                "subscriber": batch.subscriber,
                "target": batch.masked,
                "error": outcome.error,
                "streak": batch.failures + 1,
            },
        )
    return DeliveryReport(batch.subscriber, batch.masked, len(batch.entries), outcome.error)


def _record_rounds(ctx: Context, reports: list[DeliveryReport], now: datetime) -> None:
    with ctx.store.session() as session:
        for name in dict.fromkeys(r.subscriber for r in reports):
            mine = [r for r in reports if r.subscriber == name]
            ledger.record_errors(session, name, [f"{r.target}: {r.error}" for r in mine if r.error])
            ledger.subscriber(session, name).last_digest_at = now


def preview(ctx: Context, names: Sequence[str] | None) -> str:
    """Each subscriber's pending digest as text, without sending or marking anything."""
    from notify.digest import build

    now = ctx.now()
    with ctx.store.session(commit=False) as session:
        batches = ledger.pending(session, names)
    shown: dict[str, list[dict[str, Any]]] = {}
    for batch in batches:
        seen = shown.setdefault(batch.subscriber, [])
        ids = {(e["id"], e.get("old_title")) for e in seen}
        seen += [e for e in batch.entries if (e["id"], e.get("old_title")) not in ids]
    parts = []
    for name, entries in shown.items():
        context = build(name, entries, now)
        parts.append(f"== {name}: {ctx.renderer.subject(context)}\n")
        parts.append(ctx.renderer.render("digest.txt.j2", "text", context))
    return "\n".join(parts) if parts else "nothing pending\n"


def notify_test(ctx: Context, sub: SubscriberConfig) -> list[DeliveryReport]:
    from notify.digest import Message
    from notify.masking import mask_url
    from notify.send import send

    message = Message(
        "[boardwatch] 테스트 메시지 / test message",
        f"boardwatch can reach this target for subscriber {sub.name}.\n",
        "text",
    )
    reports = []
    for url in sub.urls:
        outcome = send(url, message)
        reports.append(DeliveryReport(sub.name, mask_url(url), 0, outcome.error))
    return reports


def alert(ctx: Context, context: dict[str, Any]) -> list[str]:
    """Send an admin alert to every `admin_urls` target; returns the errors (masked)."""
    from notify.masking import mask_url
    from notify.send import send

    context = {"generated_at": ctx.now(), **context}
    message = ctx.renderer.alert(context)
    LOG.warning("%s", message.title)
    errors = []
    for url in ctx.cfg.notify.admin_urls:
        outcome = send(url, message)
        if outcome.error:
            errors.append(f"{mask_url(url)}: {outcome.error}")
            LOG.error("admin alert to %s failed: %s", mask_url(url), outcome.error)
    return errors
