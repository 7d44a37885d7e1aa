"""Leases in the database: the one way runs, processes and hosts keep out of each other's way.

A lease is a row per resource name, held by an owner until it expires. Taking free names is an
insert that skips names already present (the primary key lets exactly one taker win); taking an
expired name is a conditional update (so exactly one wins too). One owner may hold many names:
a run takes all its boards in a few statements, renews and releases them together.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.db import Store
from storage.models import Lock


def acquire(
    store: Store, names: Collection[str], owner: str, ttl: float, now: datetime
) -> set[str]:
    """Take every free or expired name of `names` for `owner`; returns the names now held."""
    if not names:
        return set()
    expires = now + timedelta(seconds=ttl)
    with store.write() as session:
        _insert_free(session, store, names, owner, now, expires)
        session.execute(
            update(Lock)
            .where(Lock.name.in_(names), Lock.expires_at < now)
            .values(owner=owner, acquired_at=now, expires_at=expires)
        )
        held = session.scalars(select(Lock.name).where(Lock.name.in_(names), Lock.owner == owner))
        return set(held)


def _insert_free(
    session: Session,
    store: Store,
    names: Collection[str],
    owner: str,
    now: datetime,
    expires: datetime,
) -> None:
    dialect = postgresql if store.engine.dialect.name == "postgresql" else sqlite
    rows = [{"name": n, "owner": owner, "acquired_at": now, "expires_at": expires} for n in names]
    session.execute(dialect.insert(Lock).values(rows).on_conflict_do_nothing())


def renew(store: Store, owner: str, ttl: float, now: datetime) -> int:
    """Extend every lease `owner` holds; returns how many it still holds."""
    with store.write() as session:
        kept = session.execute(
            update(Lock).where(Lock.owner == owner).values(expires_at=now + timedelta(seconds=ttl))
        )
        return int(kept.rowcount)  # type: ignore[attr-defined]


def release(store: Store, owner: str) -> None:
    with store.write() as session:
        session.execute(delete(Lock).where(Lock.owner == owner))


def holders(store: Store, names: Collection[str]) -> dict[str, str]:
    with store.read() as session:
        rows = session.execute(select(Lock.name, Lock.owner).where(Lock.name.in_(names)))
        return {name: owner for name, owner in rows}
