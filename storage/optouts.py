"""Opt-outs: targets whose subscriber asked, through a digest's unsubscribe link, for no more
digests there. An opt-out names its target by identity (what the URL names apart from its
secrets), so a target whose password is edited stays out, and another address does not.

An opted-out target is owed nothing: leaving drops what it was still owed, nothing is queued
for it while it is out, and a target that joins with its identity (its secret edited, or put
back in the config) inherits nothing. `resume` ends a subscriber's opt-outs; from then on its
targets are queued what is found, not what was found while they were out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from storage.db import insert_new
from storage.models import Delivery, OptOut, Subscriber, Target


@dataclass(frozen=True, kw_only=True)
class Reachable:
    """A target a digest's unsubscribe link may name: its subscriber, identity and masked URL."""

    subscriber: str
    identity: str
    target: str  # masked
    url_hash: str


@dataclass(frozen=True, kw_only=True)
class Left:
    """An opt-out as stored: the target as it was when it left, and when."""

    subscriber: str
    identity: str
    target: str  # masked
    at: datetime


def opted_out() -> ColumnElement[bool]:
    """SQL: the `Target` of the query is opted out."""
    return exists().where(
        OptOut.subscriber_id == Target.subscriber_id, OptOut.identity == Target.identity
    )


def reachable(session: Session) -> list[Reachable]:
    """Every current target of a current subscriber, once per identity."""
    query = (
        select(Subscriber.name, Target.identity, Target.masked, Target.url_hash)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .where(Target.active, Subscriber.active, Target.identity.is_not(None))
        .order_by(Subscriber.name, Target.id)
    )
    found: dict[tuple[str, str], Reachable] = {}
    for name, identity, masked, url_hash in session.execute(query):
        if identity is not None:
            target = Reachable(subscriber=name, identity=identity, target=masked, url_hash=url_hash)
            found.setdefault((name, identity), target)
    return list(found.values())


def leave(session: Session, target: Reachable, now: datetime) -> bool:
    """Record that `target` wants no more digests and drop what it was still owed. True when
    this call recorded it; False when it had left already (or its subscriber is gone)."""
    sub_id = session.scalar(select(Subscriber.id).where(Subscriber.name == target.subscriber))
    if sub_id is None:
        return False
    row = {"subscriber_id": sub_id, "identity": target.identity, "masked": target.target, "at": now}
    added = insert_new(session, OptOut, row)
    targets = select(Target.id).where(
        Target.subscriber_id == sub_id, Target.identity == target.identity
    )
    session.execute(
        delete(Delivery).where(Delivery.target_id.in_(targets), Delivery.delivered_at.is_(None)),
        execution_options={"synchronize_session": False},
    )
    return added


def resume(session: Session, subscriber: str) -> list[Left]:
    """End `subscriber`'s opt-outs; returns the ones ended."""
    ended = listing(session, [subscriber]).get(subscriber, [])
    sub_id = select(Subscriber.id).where(Subscriber.name == subscriber).scalar_subquery()
    session.execute(
        delete(OptOut).where(OptOut.subscriber_id == sub_id),
        execution_options={"synchronize_session": False},
    )
    return ended


def listing(session: Session, subscribers: Collection[str] | None = None) -> dict[str, list[Left]]:
    """Each subscriber's opt-outs (of `subscribers`, or all), oldest first."""
    query = (
        select(Subscriber.name, OptOut.identity, OptOut.masked, OptOut.at)
        .join(Subscriber, OptOut.subscriber_id == Subscriber.id)
        .order_by(Subscriber.name, OptOut.at, OptOut.id)
    )
    if subscribers is not None:
        query = query.where(Subscriber.name.in_(list(subscribers)))
    found: dict[str, list[Left]] = {}
    for name, identity, masked, at in session.execute(query):
        left = Left(subscriber=name, identity=identity, target=masked, at=at)
        found.setdefault(name, []).append(left)
    return found


def identities(session: Session, subscriber_id: int) -> set[str]:
    """The identities of a subscriber's opted-out targets."""
    query = select(OptOut.identity).where(OptOut.subscriber_id == subscriber_id)
    return set(session.scalars(query))
