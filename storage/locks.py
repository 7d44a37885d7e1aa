"""Leases in the database: the one way runs, processes and hosts keep out of each other's way.

A lease is a row per resource name, held by an owner until it expires by the database's clock
(never a worker's). Taking free names is an insert that skips names already present (the primary
key lets exactly one taker win); taking an expired name — or one whose holder is a process on
this host that no longer runs — is a conditional update (exactly one wins too). A holder checks
its lease inside the transaction it commits (`holds`), so a run whose lease was taken from it
never commits after that.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage import dialect
from storage.db import Store
from storage.models import Lock

HOST = socket.gethostname()


def owner_id(tag: str) -> str:
    """`host:pid:start:tag` — who holds a lease, and enough to tell if that process still runs."""
    return f"{HOST}:{os.getpid()}:{_started(os.getpid())}:{tag}"


def who(owner: str | None) -> str | None:
    """host:pid of an owner id, for log lines."""
    return ":".join(owner.split(":")[:2]) if owner else None


def gone(owner: str) -> bool:
    """Is `owner` a process of this host that has ended? (Other hosts' leases just expire.)"""
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    started = _started(pid)
    if started is None:
        return not _running(pid)
    return parts[2] != str(started)  # a new process under a reused pid is not the holder


def _started(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def now(session: Session) -> datetime:
    """The database's clock, in UTC: every worker compares leases against the same time."""
    return dialect.clock(session)


def acquire(store: Store, names: Collection[str], owner: str, ttl: float) -> set[str]:
    """Take every free, expired or orphaned name of `names` for `owner`; returns those held."""
    if not names:
        return set()
    with store.write() as session:
        at = now(session)
        expires = at + timedelta(seconds=ttl)
        _insert_free(session, names, owner, at, expires)
        session.execute(
            update(Lock)
            .where(Lock.name.in_(names), Lock.expires_at < at)
            .values(owner=owner, acquired_at=at, expires_at=expires)
        )
        _take_orphans(session, names, owner, at, expires)
        held = session.scalars(select(Lock.name).where(Lock.name.in_(names), Lock.owner == owner))
        return set(held)


def _take_orphans(
    session: Session, names: Collection[str], owner: str, at: datetime, expires: datetime
) -> None:
    """Leases whose holder was a process on this host that has ended (killed, crashed)."""
    rows = session.execute(select(Lock.name, Lock.owner).where(Lock.name.in_(names)))
    for name, holder in rows.all():
        if holder != owner and gone(holder):
            session.execute(
                update(Lock)
                .where(Lock.name == name, Lock.owner == holder)
                .values(owner=owner, acquired_at=at, expires_at=expires)
            )


def _insert_free(
    session: Session, names: Collection[str], owner: str, at: datetime, expires: datetime
) -> None:
    rows = [{"name": n, "owner": owner, "acquired_at": at, "expires_at": expires} for n in names]
    session.execute(dialect.insert_or_skip(session, Lock, rows))


def holds(session: Session, name: str, owner: str) -> bool:
    """Within the caller's transaction: does `owner` still hold `name`? (The row stays locked
    until that transaction ends, so no one takes the lease over before it commits.)"""
    query = select(Lock.owner).where(Lock.name == name).with_for_update()
    return session.scalar(query) == owner


def renew(store: Store, owner: str, ttl: float) -> int:
    """Extend every lease `owner` holds; returns how many it still holds."""
    with store.write() as session:
        expires = now(session) + timedelta(seconds=ttl)
        kept = session.execute(update(Lock).where(Lock.owner == owner).values(expires_at=expires))
        return int(kept.rowcount)  # type: ignore[attr-defined]


def release(store: Store, owner: str) -> None:
    with store.write() as session:
        session.execute(delete(Lock).where(Lock.owner == owner))


def holders(store: Store, names: Collection[str]) -> dict[str, str]:
    with store.read() as session:
        rows = session.execute(select(Lock.name, Lock.owner).where(Lock.name.in_(names)))
        return {name: owner for name, owner in rows}
