"""Crawl runs and board health (see `storage.health`): what `scrape status` reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage import health, ledger, optouts
from storage.models import Board, Post, Run, Subscriber, Target

WARNING_DAYS = 7  # how long `status` shows what a run noticed without failing


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    board: str
    started_at: datetime
    finished_at: datetime
    pages: int
    new_posts: int
    error: str | None = None
    alarm: bool = False  # a layout change: alert at once rather than after a streak
    warning: str | None = None  # noticed without failing: shown by `status` for WARNING_DAYS


@dataclass(frozen=True)
class HealthChange:
    board: str
    change: health.Change
    streak: int


class BoardStatus(TypedDict):
    name: str
    title: str
    last_run_at: datetime | None
    last_result: str | None
    error: str | None
    posts: int
    fail_streak: int
    alerting: bool
    warning: str | None  # the latest thing a run noticed without failing, if recent
    warned_at: datetime | None


class TargetStatus(TypedDict):
    target: str  # masked
    failures: int  # sends refused in a row
    last_failure_at: datetime | None
    held_until: NotRequired[datetime | None]  # set by the caller that knows the retry policy


class LeftStatus(TypedDict):
    target: str  # masked, as it was when it left
    at: datetime


class SubscriberStatus(TypedDict):
    name: str
    pending: int
    last_delivered_at: datetime | None
    last_error: str | None
    digest: str
    failing: list[TargetStatus]
    unsubscribed: list[LeftStatus]  # targets that left through a digest's link


class Status(TypedDict):
    boards: list[BoardStatus]
    subscribers: list[SubscriberStatus]


def record_runs(
    session: Session, records: Sequence[RunRecord], threshold: int, *, announce: bool = True
) -> list[HealthChange]:
    """Store runs (one statement for all) and each board's health; returns the changes to
    announce. With `announce` False (a run that sends nothing) the alert state is left as it
    was, so the next run that sends still raises the alert, or the recovery."""
    if not records:
        return []
    names = [record.board for record in records]
    boards = {b.name: b for b in session.scalars(select(Board).where(Board.name.in_(names)))}
    rows, changes = [], []
    for record in records:
        board = boards[record.board]
        rows.append(_run_row(board.id, record))
        change = _update_board(board, record, threshold, announce)
        if change:
            changes.append(HealthChange(board.name, change, board.fail_streak))
    session.execute(insert(Run), rows)
    return changes


def _run_row(board_id: int, record: RunRecord) -> dict[str, object]:
    return {
        "board_id": board_id,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "pages": record.pages,
        "new_posts": record.new_posts,
        "result": "error" if record.error else "ok",
        "error": record.error,
    }


def _update_board(
    board: Board, record: RunRecord, threshold: int, announce: bool
) -> health.Change | None:
    failed = record.error is not None
    state, change = health.step(
        health.Health(board.fail_streak, board.alerting), failed, threshold, alarm=record.alarm
    )
    board.fail_streak = state.streak
    if announce:
        board.alerting = state.alerting
    else:
        change = None
    board.last_run_at, board.last_error = record.finished_at, record.error
    if record.warning:
        board.warning, board.warned_at = record.warning, record.finished_at
    board.last_result = "error" if failed else "ok"
    return change


@dataclass(frozen=True)
class Configured:
    """The configuration as read now, as the store mirrors it: boards (name: title) and
    subscribers (`storage.ledger.SubscriberSpec`)."""

    boards: Mapping[str, str]
    subscribers: Sequence[ledger.SubscriberSpec]


def status(session: Session, configured: Configured | None = None) -> Status:
    """Every board's health and every subscriber's backlog — as a sync to `configured` would
    leave them (boards it adds never run, subscribers it adds owe nothing yet), without writing;
    without it, as the store was last synced."""
    configured = configured or _as_stored(session)
    query = select(Post.board_id, func.count()).group_by(Post.board_id)
    counts = {bid: n for bid, n in session.execute(query)}
    since = datetime.now(UTC) - timedelta(days=WARNING_DAYS)
    stored = {b.name: b for b in session.scalars(select(Board))}
    boards = [
        _board_status(name, stored.get(name), configured.boards.get(name), counts, since)
        for name in sorted(stored.keys() | configured.boards.keys())
    ]
    return Status(boards=boards, subscribers=_subscribers(session, configured.subscribers))


def _as_stored(session: Session) -> Configured:
    """The configuration the store was last synced to."""
    boards = {name: title for name, title in session.execute(select(Board.name, Board.title))}
    targets: dict[int, list[ledger.TargetSpec]] = {}
    for target in session.scalars(select(Target).where(Target.active)):
        spec = ledger.TargetSpec(target.url_hash, target.masked, target.identity)
        targets.setdefault(target.subscriber_id, []).append(spec)
    subs = session.scalars(select(Subscriber).where(Subscriber.active))
    specs = [ledger.SubscriberSpec(s.name, targets.get(s.id, []), digest=s.digest) for s in subs]
    return Configured(boards, specs)


def _subscribers(
    session: Session, specs: Sequence[ledger.SubscriberSpec]
) -> list[SubscriberStatus]:
    owed = ledger.owed(session, specs)
    lefts = optouts.listing(session, [spec.name for spec in specs])
    stored = {s.name: s for s in session.scalars(select(Subscriber))}
    failing: dict[int, list[Target]] = {}
    for target in session.scalars(select(Target).where(Target.failures > 0).order_by(Target.id)):
        failing.setdefault(target.subscriber_id, []).append(target)
    found = []
    for spec in sorted(specs, key=lambda spec: spec.name):
        sub = stored.get(spec.name)
        wanted = {target.url_hash for target in spec.targets}
        refused = failing.get(sub.id, []) if sub else []
        shown = [_target_status(t) for t in refused if t.url_hash in wanted]
        left = [LeftStatus(target=x.target, at=x.at) for x in lefts.get(spec.name, [])]
        found.append(_sub_status(spec, sub, len(owed[spec.name]), shown, left))
    return found


def _target_status(target: Target) -> TargetStatus:
    return TargetStatus(
        target=target.masked, failures=target.failures, last_failure_at=target.last_failure_at
    )


def _board_status(
    name: str, board: Board | None, title: str | None, counts: Mapping[int, int], since: datetime
) -> BoardStatus:
    if board is None:
        return _never_run(name, title or name)
    recent = board.warned_at is not None and board.warned_at >= since
    return BoardStatus(
        name=name,
        title=title or board.title,
        last_run_at=board.last_run_at,
        last_result=board.last_result,
        error=board.last_error,
        posts=counts.get(board.id, 0),
        fail_streak=board.fail_streak,
        alerting=board.alerting,
        warning=board.warning if recent else None,
        warned_at=board.warned_at if recent else None,
    )


def _never_run(name: str, title: str) -> BoardStatus:
    """A configured board the store has not seen yet."""
    return BoardStatus(
        name=name,
        title=title,
        last_run_at=None,
        last_result=None,
        error=None,
        posts=0,
        fail_streak=0,
        alerting=False,
        warning=None,
        warned_at=None,
    )


def _sub_status(
    spec: ledger.SubscriberSpec,
    sub: Subscriber | None,
    pending: int,
    failing: list[TargetStatus],
    unsubscribed: list[LeftStatus],
) -> SubscriberStatus:
    return SubscriberStatus(
        name=spec.name,
        pending=pending,
        last_delivered_at=sub.last_delivered_at if sub else None,
        last_error=sub.last_error if sub else None,
        digest=spec.digest,
        failing=failing,
        unsubscribed=unsubscribed,
    )
