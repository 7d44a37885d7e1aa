"""When a target that refused a digest is tried again.

A target's entries that failed are owed at once, whatever the subscriber's digest schedule. The
first retry is immediate (the next run); after that the daemon waits `base`, 2×`base`, 4×`base` …
up to `cap` between tries, and never gives up. Pure functions; tested by a table of cases.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after `failures` failed sends in a row before the next try."""
    if failures <= 1:
        return 0.0
    return float(min(base * 2 ** (failures - 2), cap))


def held_until(
    failures: int, last_failure_at: datetime | None, base: float, cap: float
) -> datetime | None:
    """Until when a failing target is held back (None: it may be tried now or was never held)."""
    if not failures or last_failure_at is None:
        return None
    wait = delay(failures, base, cap)
    return last_failure_at + timedelta(seconds=wait) if wait else None


def may_try(
    failures: int,
    last_failure_at: datetime | None,
    now: datetime,
    base: float,
    cap: float,
    *,
    spaced: bool,
) -> bool:
    """May a target be sent to at `now`? Only `spaced` callers (the daemon) honour the pauses."""
    until = held_until(failures, last_failure_at, base, cap)
    return not spaced or until is None or now >= until
