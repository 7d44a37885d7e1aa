"""The delivery ledger: one entry per (target, post, revision), delivered only once accepted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Board, Delivery, Post, Revision, Subscriber, Target, post_dict


@dataclass(frozen=True)
class SubscriberSpec:
    """Routing data for one configured subscriber; targets are (url_hash, masked) pairs."""

    name: str
    targets: Sequence[tuple[str, str]]
    boards: Sequence[str] | None = None
    keywords: Sequence[str] = ()
    exclude_keywords: Sequence[str] = ()
    include_updates: bool = False
    digest: str = "immediate"


@dataclass
class Batch:
    """A target's pending entries: everything one digest message to it must carry."""

    subscriber: str
    target_id: int
    url_hash: str
    masked: str
    failures: int = 0  # the target's consecutive failed sends
    last_failure_at: datetime | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [entry["entry_id"] for entry in self.entries]


def sync_subscribers(session: Session, specs: Sequence[SubscriberSpec], now: datetime) -> None:
    """Make the stored subscribers and targets match the configuration."""
    known = {s.name: s for s in session.scalars(select(Subscriber))}
    for sub in known.values():
        sub.active = False
    for spec in specs:
        sub = known.get(spec.name) or _new_subscriber(session, spec.name, now)
        sub.active = True
        sub.boards = list(spec.boards) if spec.boards is not None else None
        sub.keywords = list(spec.keywords)
        sub.exclude_keywords = list(spec.exclude_keywords)
        sub.include_updates = spec.include_updates
        sub.digest = spec.digest
        _sync_targets(session, sub, spec.targets)


def _new_subscriber(session: Session, name: str, now: datetime) -> Subscriber:
    sub = Subscriber(name=name, first_seen=now, keywords=[], exclude_keywords=[])
    session.add(sub)
    session.flush()
    return sub


def _sync_targets(session: Session, sub: Subscriber, targets: Sequence[tuple[str, str]]) -> None:
    wanted = dict(targets)
    for target in session.scalars(select(Target).where(Target.subscriber_id == sub.id)):
        target.active = target.url_hash in wanted
        target.masked = wanted.pop(target.url_hash, target.masked)
    for url_hash, masked in wanted.items():
        session.add(Target(subscriber_id=sub.id, url_hash=url_hash, masked=masked, active=True))
    session.flush()


def queue(
    session: Session,
    board: str,
    posts: Sequence[Mapping[str, Any]],
    *,
    revision: bool,
    now: datetime,
) -> int:
    """Queue `posts` (new posts, or retitled ones) for every subscriber they match."""
    if not posts:
        return 0
    rows = []
    for sub, target_ids in _subscribers(session):
        if not _wants(sub, board, revision):
            continue
        for post in posts:
            if matches(sub, post):
                rev = post["revision"] if revision else 0
                rows += [_entry(t, post["id"], rev, now) for t in target_ids]
    if rows:
        session.execute(insert(Delivery), rows)
    return len(rows)


def _entry(target_id: int, post_id: int, revision: int, now: datetime) -> dict[str, Any]:
    return {"target_id": target_id, "post_id": post_id, "revision": revision, "queued_at": now}


def _subscribers(session: Session) -> list[tuple[Subscriber, list[int]]]:
    query = (
        select(Subscriber, Target.id)
        .join(Target, Target.subscriber_id == Subscriber.id)
        .where(Subscriber.active, Target.active)
    )
    grouped: dict[int, tuple[Subscriber, list[int]]] = {}
    for sub, target_id in session.execute(query):
        grouped.setdefault(sub.id, (sub, []))[1].append(target_id)
    return list(grouped.values())


def _wants(sub: Subscriber, board: str, revision: bool) -> bool:
    if revision and not sub.include_updates:
        return False
    return sub.boards is None or board in sub.boards


def matches(sub: Subscriber | SubscriberSpec, post: Mapping[str, Any]) -> bool:
    """Keywords (any) and exclusions (none), case-insensitive, in title and summary."""
    text = f"{post.get('title') or ''}\n{post.get('summary') or ''}".casefold()
    if sub.keywords and not any(k.casefold() in text for k in sub.keywords):
        return False
    return not any(k.casefold() in text for k in sub.exclude_keywords)


def pending(
    session: Session,
    subscribers: Sequence[str] | None = None,
    targets: Sequence[int] | None = None,
) -> list[Batch]:
    """Undelivered entries of active targets, grouped by target, newest post first."""
    query = (
        select(Delivery, Post, Board, Subscriber, Target, Revision)
        .join(Target, Delivery.target_id == Target.id)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .join(Post, Delivery.post_id == Post.id)
        .join(Board, Post.board_id == Board.id)
        .outerjoin(Revision, Delivery.revision == Revision.id)
        .where(Delivery.delivered_at.is_(None), Target.active, Subscriber.active)
        .order_by(Subscriber.name, Target.id, Post.first_seen.desc(), Post.id, Delivery.revision)
    )
    if subscribers is not None:
        query = query.where(Subscriber.name.in_(subscribers))
    if targets is not None:
        query = query.where(Target.id.in_(targets))
    batches: dict[int, Batch] = {}
    for entry, post, board, sub, target, rev in session.execute(query):
        batch = batches.get(target.id)
        if batch is None:
            batch = batches[target.id] = Batch(
                sub.name,
                target.id,
                target.url_hash,
                target.masked,
                target.failures,
                target.last_failure_at,
            )
        batch.entries.append(_entry_view(entry, post, board, rev))
    return list(batches.values())


def claim(session: Session, target_id: int) -> Batch | None:
    """Lock one target for this transaction and read its pending entries afresh.

    On PostgreSQL the row lock is taken with SKIP LOCKED: None means another worker is sending
    to this target right now. (SQLite has no row locks; there a run-wide lease serializes.)
    """
    locked = session.scalar(
        select(Target.id).where(Target.id == target_id).with_for_update(skip_locked=True)
    )
    if locked is None:
        return None
    batches = pending(session, targets=[target_id])
    return batches[0] if batches else None


def _entry_view(entry: Delivery, post: Post, board: Board, rev: Revision | None) -> dict[str, Any]:
    view = post_dict(post, board)
    view.update(entry_id=entry.id, attempts=entry.attempts, updated=rev is not None)
    if rev is not None:
        view.update(title=rev.new_title, old_title=rev.old_title)
    return view


def record_attempt(
    session: Session, batch: Batch, error: str | None, now: datetime, threshold: int = 3
) -> str | None:
    """Mark the batch delivered (error None: the target accepted it) or count a failed try.

    Returns "failing" when the target has now failed `threshold` times in a row (once per
    outage) and "recovered" when a target that was failing accepts again.
    """
    values: dict[str, Any] = {"last_attempt_at": now, "attempts": Delivery.attempts + 1}
    values.update(last_error=error) if error else values.update(delivered_at=now, last_error=None)
    session.execute(update(Delivery).where(Delivery.id.in_(batch.ids)).values(**values))
    target = session.get_one(Target, batch.target_id)
    if error:
        target.failures, target.last_failure_at = target.failures + 1, now
        if target.failures >= threshold and not target.alerting:
            target.alerting = True
            return "failing"
        return None
    subscriber(session, batch.subscriber).last_delivered_at = now
    target.failures, recovered, target.alerting = 0, target.alerting, False
    return "recovered" if recovered else None


def record_errors(session: Session, name: str, errors: Sequence[str]) -> None:
    """A subscriber's last error: what its last delivery round reported, or nothing."""
    subscriber(session, name).last_error = "; ".join(errors) or None


def subscriber(session: Session, name: str) -> Subscriber:
    return session.scalars(select(Subscriber).where(Subscriber.name == name)).one()


def pending_counts(session: Session) -> dict[str, int]:
    """Per subscriber: posts (and revisions) awaiting delivery to at least one target."""
    entries = (
        select(Subscriber.name, Delivery.post_id, Delivery.revision)
        .join(Target, Delivery.target_id == Target.id)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .where(Delivery.delivered_at.is_(None), Target.active, Subscriber.active)
        .distinct()
        .subquery()
    )
    query = select(entries.c.name, func.count()).group_by(entries.c.name)
    return {name: n for name, n in session.execute(query)}
