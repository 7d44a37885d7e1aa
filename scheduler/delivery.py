"""Sending digests, target by target, and marking what each target accepted.

Which digests are due is `scheduler.policy.due`'s to say, and when a failed target is tried again
`scheduler.policy.retries`'; this module claims each due target, renders and sends its digest, and
records the answer. `notify_test` sends a test message to each target of a subscriber, and
`send_alert` an admin alert (`storage.health` decides when; `alert.txt.j2` words it) to every
`[notify] admin_urls` target.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from notify.errors import HINTS, Cause, DeliveryError
from notify.masking import mask_url
from notify.views import BoardAlert, DeliveryAlert
from scheduler.config import SubscriberConfig
from scheduler.config.values import interval_seconds
from scheduler.context import Context
from scheduler.ops import logs
from scheduler.ops.logs import LOG
from scheduler.policy import due, retries
from storage import ledger

if TYPE_CHECKING:
    from notify.digest import Message
    from notify.media import Medium
    from notify.unsubscribe import Leave


class Sends:
    """The sends under way in this process, a target each, and whether new ones may start. On
    SIGTERM the daemon stops new sends and waits for those in flight — a digest whose server has
    it but has not answered yet would otherwise be sent again by the next run."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._now: dict[int, str] = {}  # target id -> masked target
        self.stopping = False

    @contextmanager
    def one(self, target_id: int, target: str) -> Iterator[None]:
        with self._cond:
            self._now[target_id] = target
        try:
            yield
        finally:
            with self._cond:
                self._now.pop(target_id, None)
                self._cond.notify_all()

    def stop(self) -> None:
        """No send starts from now on (those under way finish)."""
        self.stopping = True

    def wait(self, timeout: float) -> list[str]:
        """Wait up to `timeout` seconds for the sends under way; the targets still sending."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._now and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return sorted(self._now.values())


SENDS = Sends()


@dataclass(frozen=True, kw_only=True)
class DeliveryReport:
    subscriber: str
    target: str  # masked
    entries: int
    error: DeliveryError | None  # the target's refusal (None: it accepted)
    alert_errors: tuple[DeliveryError, ...] = ()  # admin alerts that could not be delivered


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

    if SENDS.stopping:
        return None  # the daemon is stopping: no send starts now (the next run sends it)
    with ctx.store.write() as session, contextlib.ExitStack() as sending:
        batch = ledger.claim(ctx.store, session, target_id)
        if batch is None:
            return None  # another worker is sending to it, or it was just delivered
        sending.enter_context(SENDS.one(target_id, batch.masked))
        chunk, more = replace(batch, entries=batch.entries[:size]), len(batch.entries) > size
        url = ctx.urls[batch.url_hash]
        links = {board.name: board.url for board in ctx.cfg.boards}
        medium = medium_for(url)
        leave = leaving(ctx, batch, url, medium)
        context = build(
            chunk.subscriber, chunk.entries, now, compact=compact, links=links, leave=leave
        )
        error = _sent(url, lambda: ctx.renderer.digest(context, medium.name, leave.headers))
        if error is not None and error.oversized and (len(chunk.entries) > 1 or not compact):
            LOG.info(
                "digest %s → %s: too large for it, sent in parts", batch.subscriber, batch.masked
            )
            session.rollback()
            refused = len(chunk.entries)
            report = DeliveryReport(
                subscriber=batch.subscriber, target=batch.masked, entries=0, error=error
            )
            return report, refused, True
        reason = error.reason if error else None
        ledger.mark(session, chunk, reason and logs.SECRETS.mask(reason), now)
        session.commit()  # the target's answer is recorded the moment it came: the crash window
        threshold = ctx.cfg.notify.failure_threshold
        change = ledger.record_health(session, chunk, reason, now, threshold)
    _log_send(ctx, chunk, reason, now, spaced)
    alert_errors = _alert(ctx, chunk, change, reason)
    report = DeliveryReport(
        subscriber=chunk.subscriber,
        target=chunk.masked,
        entries=len(chunk.entries),
        error=error,
        alert_errors=alert_errors,
    )
    return report, 0, more


def leaving(ctx: Context, batch: ledger.Batch, url: str, medium: Medium) -> Leave:
    """How the reader of a digest to this target leaves. Email: with `[http] public_url`, a
    link to its own unsubscribe page (and one-click headers); without, a mail to the first
    admin address, if that is email. Other media: the operator's `[http] leave_hint`, if any."""
    from notify import unsubscribe
    from notify.masking import identity

    http = ctx.cfg.http
    if not medium.headers:
        return unsubscribe.Leave(hint=http.leave_hint or None)
    if http.public_url:
        target = batch.identity or identity(url)
        return unsubscribe.by_link(http.public_url, http.secret, batch.subscriber, target)
    admins = ctx.cfg.notify.admin_urls
    mailbox = unsubscribe.mailbox(admins[0]) if admins else None
    return unsubscribe.by_mail(mailbox, batch.subscriber) if mailbox else unsubscribe.Leave()


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
) -> tuple[DeliveryError, ...]:
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
        said = [logs.SECRETS.mask(f"{r.target}: {r.error.reason}")] if r.error else []
        errors.setdefault(r.subscriber, []).extend(said)
    with ctx.store.write() as session:
        ledger.record_rounds(session, errors, now)


def notify_test(ctx: Context, sub: SubscriberConfig) -> list[DeliveryReport]:
    """A short test message to each of `sub`'s targets, and each target's answer."""
    from notify.digest import Message

    message = Message(
        "[boardwatch] 테스트 메시지 / test message",
        f"boardwatch can reach this target for subscriber {sub.name}.\n",
        "text",
    )
    reports = []
    for url in sub.urls:
        error = _sent(url, lambda: message)
        target = mask_url(url)
        reports.append(DeliveryReport(subscriber=sub.name, target=target, entries=0, error=error))
    return reports


def _sent(url: str, message: Callable[[], Message]) -> DeliveryError | None:
    """One target's answer, for its report: None when it accepted the message. A message whose
    template cannot be rendered is not sent: the target's error, in our words."""
    from notify.digest import TemplateFailed
    from notify.send import send

    try:
        send(url, message())
    except TemplateFailed as failed:
        reason = f"{Cause.TEMPLATE}: {failed}"
        return DeliveryError(mask_url(url), reason, HINTS[Cause.TEMPLATE], cause=Cause.TEMPLATE)
    except DeliveryError as error:
        return error
    return None


def send_alert(ctx: Context, alert: BoardAlert | DeliveryAlert) -> list[DeliveryError]:
    """Send one alert to every admin target; returns the targets' refusals (masked)."""
    from notify.digest import TemplateFailed

    try:
        message = ctx.renderer.alert(alert, ctx.now())
    except TemplateFailed as failed:  # a user's alert.txt.j2 that fails: said, not raised
        LOG.error("admin alert not sent: the template failed: %s", failed)
        reason = f"{Cause.TEMPLATE}: the alert template failed: {failed}"
        hint = HINTS[Cause.TEMPLATE]
        return [DeliveryError("[notify] admin_urls", reason, hint, cause=Cause.TEMPLATE)]
    LOG.warning("%s", message.title)
    errors = []
    for url in ctx.cfg.notify.admin_urls:
        error = _sent(url, lambda: message)
        if error is not None:  # the next admin target is alerted all the same
            errors.append(error)
            LOG.error("admin alert to %s failed: %s", error.target, error.reason)
    return errors
