"""Holding leases (see `storage.locks`) while a coroutine works: bounded wait, heartbeat.

How long a lease lives without renewal is `[storage] lease_ttl`; a lease whose holder process is
gone from this host is taken over at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from storage import Store, claims, locks

LOG = logging.getLogger("boardwatch")  # masked by `scheduler.ops.logs`, as every record is

POLL = 0.25


class Busy(Exception):
    """Someone else holds the lease; `holder` says who (host:pid)."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"{name} is held by {holder or 'another run'}")
        self.name, self.holder = name, holder


@dataclass
class Held:
    """The leases a block holds, and the owner id that holds them (for fencing commits)."""

    owner: str
    names: set[str] = field(default_factory=set)

    def __contains__(self, name: object) -> bool:
        return name in self.names


@asynccontextmanager
async def leases(
    store: Store, names: Collection[str], *, ttl: float, wait: float = 0.0
) -> AsyncIterator[Held]:
    """Hold what can be had of `names` for the block (waiting up to `wait` s for all of them)."""
    held = Held(locks.owner_id(uuid.uuid4().hex[:8]))
    deadline = time.monotonic() + wait
    while True:
        held.names |= await asyncio.to_thread(
            locks.acquire, store, set(names) - held.names, held.owner, ttl
        )
        if held.names >= set(names) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL)
    beat = (
        asyncio.create_task(_heartbeat(store, held.owner, len(held.names), ttl))
        if held.names
        else None
    )
    try:
        yield held
    finally:
        if beat is not None:
            beat.cancel()
            await asyncio.to_thread(locks.release, store, held.owner)


@asynccontextmanager
async def lease(store: Store, name: str, *, ttl: float, wait: float = 0.0) -> AsyncIterator[Held]:
    """Hold `name` for the block, waiting up to `wait` seconds; raises Busy if not had."""
    async with leases(store, [name], wait=wait, ttl=ttl) as held:
        if not held.names:
            holder = (await asyncio.to_thread(locks.holders, store, [name])).get(name)
            raise Busy(name, locks.who(holder))
        yield held


@asynccontextmanager
async def holding(
    store: Store, owner: str, count: int, *, ttl: float, linger: float = 0.0
) -> AsyncIterator[None]:
    """Keep the `count` leases a claim took for `owner` alive through the block, then give them
    back (see `storage.claims.release`)."""
    beat = asyncio.create_task(_heartbeat(store, owner, count, ttl))
    try:
        yield
    finally:
        beat.cancel()
        await asyncio.to_thread(claims.release, store, owner, linger)


async def _heartbeat(store: Store, owner: str, expected: int, ttl: float) -> None:
    """Renew `owner`'s leases every quarter of their life; a loss (`expected` held) is told once."""
    while True:
        await asyncio.sleep(ttl / 4)
        try:
            kept = await asyncio.to_thread(locks.renew, store, owner, ttl)
        except Exception as exc:  # the database is away: the next beat tries again
            LOG.warning("could not renew leases: %s", exc.__class__.__name__)
            continue
        if kept < expected:
            LOG.error("lost %d lease(s): another run took them over", expected - kept)
            expected = kept
