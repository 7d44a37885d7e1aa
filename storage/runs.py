"""Crawl runs and board health: failure streaks, one alert when failing, one on recovery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import ledger
from storage.models import Board, Post, Run, Subscriber


@dataclass(frozen=True)
class RunRecord:
    board: str
    started_at: datetime
    finished_at: datetime
    pages: int
    new_posts: int
    error: str | None = None
    alarm: bool = False  # a layout change: alert at once rather than after a streak


def record_run(session: Session, run: RunRecord, threshold: int) -> str | None:
    """Store a run; returns "failing" or "recovered" when the board's health flips."""
    board = session.scalars(select(Board).where(Board.name == run.board)).one()
    result = "error" if run.error else "ok"
    session.add(
        Run(
            board_id=board.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            pages=run.pages,
            new_posts=run.new_posts,
            result=result,
            error=run.error,
        )
    )
    board.last_run_at, board.last_result, board.last_error = run.finished_at, result, run.error
    board.fail_streak = board.fail_streak + 1 if run.error else 0
    if run.error and not board.alerting and (run.alarm or board.fail_streak >= threshold):
        board.alerting = True
        return "failing"
    if not run.error and board.alerting:
        board.alerting = False
        return "recovered"
    return None


def status(session: Session) -> dict[str, Any]:
    query = select(Post.board_id, func.count()).group_by(Post.board_id)
    counts = {bid: n for bid, n in session.execute(query)}
    pending = ledger.pending_counts(session)
    boards = [
        _board_status(b, counts.get(b.id, 0))
        for b in session.scalars(select(Board).order_by(Board.name))
    ]
    subs = session.scalars(select(Subscriber).where(Subscriber.active).order_by(Subscriber.name))
    return {"boards": boards, "subscribers": [_sub_status(s, pending.get(s.name, 0)) for s in subs]}


def _board_status(board: Board, posts: int) -> dict[str, Any]:
    return {
        "name": board.name,
        "title": board.title,
        "last_run_at": board.last_run_at,
        "last_result": board.last_result,
        "error": board.last_error,
        "posts": posts,
        "fail_streak": board.fail_streak,
        "alerting": board.alerting,
    }


def _sub_status(sub: Subscriber, pending: int) -> dict[str, Any]:
    return {
        "name": sub.name,
        "pending": pending,
        "last_delivered_at": sub.last_delivered_at,
        "last_error": sub.last_error,
        "digest": sub.digest,
    }


def streak(session: Session, board: str) -> int:
    return session.scalar(select(Board.fail_streak).where(Board.name == board)) or 0
