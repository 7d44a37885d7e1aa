"""Holding leases (see `storage.locks`) while a coroutine works: bounded wait, heartbeat.

How long a lease lives without renewal is `[storage] lease_ttl`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from scheduler.logs import LOG
from storage import Store, locks

POLL = 0.25


class Busy(Exception):
    """Someone else holds the lease; `holder` says who (host:pid)."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"{name} is held by {holder or 'another run'}")
        self.name, self.holder = name, holder


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def who(owner: str | None) -> str | None:
    """host:pid of an owner id, for log lines."""
    return owner.rsplit(":", 1)[0] if owner else None


@asynccontextmanager
async def leases(
    store: Store, names: Collection[str], *, ttl: float, wait: float = 0.0
) -> AsyncIterator[set[str]]:
    """Hold what can be had of `names` for the block (waiting up to `wait` s for all of them)."""
    owner = owner_id()
    deadline = time.monotonic() + wait
    held: set[str] = set()
    while True:
        held |= await asyncio.to_thread(
            locks.acquire, store, set(names) - held, owner, ttl, datetime.now(UTC)
        )
        if held >= set(names) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL)
    beat = asyncio.create_task(_heartbeat(store, owner, ttl, len(held))) if held else None
    try:
        yield held
    finally:
        if beat is not None:
            beat.cancel()
            await asyncio.to_thread(locks.release, store, owner)


@asynccontextmanager
async def lease(store: Store, name: str, *, ttl: float, wait: float = 0.0) -> AsyncIterator[None]:
    """Hold `name` for the block, waiting up to `wait` seconds; raises Busy if not had."""
    async with leases(store, [name], wait=wait, ttl=ttl) as held:
        if not held:
            holder = (await asyncio.to_thread(locks.holders, store, [name])).get(name)
            raise Busy(name, who(holder))
        yield


async def _heartbeat(store: Store, owner: str, ttl: float, count: int) -> None:
    while True:
        await asyncio.sleep(ttl / 4)
        kept = await asyncio.to_thread(locks.renew, store, owner, ttl, datetime.now(UTC))
        if kept < count:
            LOG.error("lost %d lease(s) (the database was unreachable for %ds?)", count - kept, ttl)
