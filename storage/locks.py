"""Leases in the database: the one way runs, processes and hosts keep out of each other's way.

A lease is a row per resource name. Taking it is an insert (the primary key makes exactly one
insert win) or the takeover of an expired row (a conditional update, so exactly one wins too).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Store
from storage.models import Lock


def acquire(store: Store, name: str, owner: str, ttl: float, now: datetime) -> bool:
    expires = now + timedelta(seconds=ttl)
    try:
        with store.session() as session:
            session.add(Lock(name=name, owner=owner, acquired_at=now, expires_at=expires))
        return True
    except IntegrityError:
        pass
    with store.session() as session:
        taken = session.execute(
            update(Lock)
            .where(Lock.name == name, Lock.expires_at < now)
            .values(owner=owner, acquired_at=now, expires_at=expires)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def renew(store: Store, name: str, owner: str, ttl: float, now: datetime) -> bool:
    """Extend a lease we hold; False when it was lost (expired and taken over)."""
    with store.session() as session:
        kept = session.execute(
            update(Lock)
            .where(Lock.name == name, Lock.owner == owner)
            .values(expires_at=now + timedelta(seconds=ttl))
        )
        return bool(kept.rowcount)  # type: ignore[attr-defined]


def release(store: Store, name: str, owner: str) -> None:
    with store.session() as session:
        session.execute(delete(Lock).where(Lock.name == name, Lock.owner == owner))


def holder(store: Store, name: str) -> str | None:
    with store.session(commit=False) as session:
        return session.scalar(select(Lock.owner).where(Lock.name == name))
