"""Crawl runs and board health (see `storage.health`): what `scrape status` reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage import health, ledger
from storage.models import Board, Post, Run, Subscriber, Target

WARNING_DAYS = 7  # how long `status` shows what a run noticed without failing


@dataclass(frozen=True)
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


class SubscriberStatus(TypedDict):
    name: str
    pending: int
    last_delivered_at: datetime | None
    last_error: str | None
    digest: str
    failing: list[TargetStatus]


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


def status(session: Session) -> Status:
    """Every board's health and every active subscriber's backlog."""
    query = select(Post.board_id, func.count()).group_by(Post.board_id)
    counts = {bid: n for bid, n in session.execute(query)}
    pending = ledger.pending_counts(session)
    since = datetime.now(UTC) - timedelta(days=WARNING_DAYS)
    boards = [
        _board_status(b, counts.get(b.id, 0), since)
        for b in session.scalars(select(Board).order_by(Board.name))
    ]
    subs = session.scalars(select(Subscriber).where(Subscriber.active).order_by(Subscriber.name))
    failing = _failing(session)
    return Status(
        boards=boards,
        subscribers=[_sub_status(s, pending.get(s.name, 0), failing.get(s.id, [])) for s in subs],
    )


def _failing(session: Session) -> dict[int, list[TargetStatus]]:
    query = select(Target).where(Target.active, Target.failures > 0).order_by(Target.id)
    found: dict[int, list[TargetStatus]] = {}
    for target in session.scalars(query):
        found.setdefault(target.subscriber_id, []).append(
            TargetStatus(
                target=target.masked,
                failures=target.failures,
                last_failure_at=target.last_failure_at,
            )
        )
    return found


def _board_status(board: Board, posts: int, since: datetime) -> BoardStatus:
    recent = board.warned_at is not None and board.warned_at >= since
    return BoardStatus(
        name=board.name,
        title=board.title,
        last_run_at=board.last_run_at,
        last_result=board.last_result,
        error=board.last_error,
        posts=posts,
        fail_streak=board.fail_streak,
        alerting=board.alerting,
        warning=board.warning if recent else None,
        warned_at=board.warned_at if recent else None,
    )


def _sub_status(sub: Subscriber, pending: int, failing: list[TargetStatus]) -> SubscriberStatus:
    return SubscriberStatus(
        name=sub.name,
        pending=pending,
        last_delivered_at=sub.last_delivered_at,
        last_error=sub.last_error,
        digest=sub.digest,
        failing=failing,
    )
