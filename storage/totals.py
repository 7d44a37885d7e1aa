"""What `/metrics` counts, read from the store (so every worker and every cron run counts): each
board's run totals, each target's deliveries, the leases held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from storage import dialect
from storage.models import (
    Board,
    Delivery,
    Lock,
    Run,
    Subscriber,
    Target,
    UTCDateTime,
)


@dataclass(frozen=True)
class BoardTotals:
    board: str
    runs: int
    failures: int
    new_posts: int
    pages: int
    crawl_seconds: float
    last_success_at: datetime | None
    last_result: str | None  # "ok", "error"; None: never run


@dataclass(frozen=True)
class TargetTotals:
    subscriber: str
    target: str  # masked
    delivered: int  # entries (a post, or a post's new title) this target accepted
    failed_attempts: int  # sends of an entry this target refused
    pending: int  # entries waiting for this target
    failing: int  # sends refused in a row


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str


def board_totals(session: Session) -> list[BoardTotals]:
    seconds = dialect.seconds_between(session, Run.started_at, Run.finished_at)
    query = (
        select(
            Board.name,
            Board.last_result,
            func.count(Run.id),
            func.coalesce(func.sum(case((Run.result == "error", 1), else_=0)), 0),
            func.coalesce(func.sum(Run.new_posts), 0),
            func.coalesce(func.sum(Run.pages), 0),
            func.coalesce(func.sum(seconds), 0.0),
            func.max(case((Run.result == "ok", Run.finished_at), else_=None), type_=UTCDateTime()),
        )
        .outerjoin(Run, Run.board_id == Board.id)
        .group_by(Board.id, Board.name, Board.last_result)
        .order_by(Board.name)
    )
    found = []
    for name, result, runs, failures, new, pages, crawl, success in session.execute(query):
        found.append(
            BoardTotals(
                name, runs, int(failures), int(new), int(pages), float(crawl), success, result
            )
        )
    return found


def target_totals(session: Session) -> list[TargetTotals]:
    delivered = func.coalesce(func.sum(case((Delivery.delivered_at.is_not(None), 1), else_=0)), 0)
    waiting = and_(
        Delivery.id.is_not(None), Delivery.delivered_at.is_(None)
    )  # not the outer join's
    pending = func.coalesce(func.sum(case((waiting, 1), else_=0)), 0)
    attempts = func.coalesce(func.sum(Delivery.attempts), 0)
    query = (
        select(Subscriber.name, Target.masked, Target.failures, delivered, attempts, pending)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .outerjoin(Delivery, Delivery.target_id == Target.id)
        .where(Target.active, Subscriber.active)
        .group_by(Target.id, Subscriber.name, Target.masked, Target.failures)
        .order_by(Subscriber.name, Target.id)
    )
    return [
        TargetTotals(sub, masked, int(done), max(int(tries) - int(done), 0), int(wait), failing)
        for sub, masked, failing, done, tries, wait in session.execute(query)
    ]


def leases(session: Session, now: datetime) -> list[Lease]:
    query = select(Lock.name, Lock.owner).where(Lock.expires_at > now).order_by(Lock.name)
    return [Lease(name, owner) for name, owner in session.execute(query)]
