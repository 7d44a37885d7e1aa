"""Holding a lease (see `storage.locks`) while a coroutine works: bounded wait, heartbeat."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from scheduler.logs import LOG
from storage import Store, locks

TTL = 60.0  # seconds a lease lives without renewal: how long a killed holder blocks others
POLL = 0.25


class Busy(Exception):
    """Someone else holds the lease; `holder` says who (host:pid)."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"{name} is held by {holder or 'another run'}")
        self.name, self.holder = name, holder


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def lease(
    store: Store, name: str, *, wait: float = 0.0, ttl: float = TTL
) -> AsyncIterator[None]:
    """Hold `name` for the block, waiting up to `wait` seconds for it; raises Busy if not had."""
    owner = owner_id()
    deadline = time.monotonic() + wait
    while not await asyncio.to_thread(locks.acquire, store, name, owner, ttl, datetime.now(UTC)):
        if time.monotonic() >= deadline:
            held_by = await asyncio.to_thread(locks.holder, store, name)
            raise Busy(name, held_by.rsplit(":", 1)[0] if held_by else None)
        await asyncio.sleep(POLL)
    beat = asyncio.create_task(_heartbeat(store, name, owner, ttl))
    try:
        yield
    finally:
        beat.cancel()
        await asyncio.to_thread(locks.release, store, name, owner)


async def _heartbeat(store: Store, name: str, owner: str, ttl: float) -> None:
    while True:
        await asyncio.sleep(ttl / 4)
        if not await asyncio.to_thread(locks.renew, store, name, owner, ttl, datetime.now(UTC)):
            LOG.error("lost the lease on %s (the database was unreachable for %ds?)", name, ttl)
