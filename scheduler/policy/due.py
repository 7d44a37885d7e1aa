"""When a subscriber's digest is due: at once (outside quiet hours), or when a cron fire time
has passed since the subscriber's last digest (or since it was first seen).

Pure functions over plain values; `tests/scheduler/test_policies.py` holds their table of cases.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

IMMEDIATE = "immediate"


def is_due(
    digest: str, quiet_hours: str | None, since: datetime, now: datetime, zone: ZoneInfo
) -> bool:
    """Is a digest on schedule `digest` due at `now`? `since`: the last digest (or first sight).

    Quiet hours hold immediate digests only; a cron digest goes out at its own times.
    """
    if digest == IMMEDIATE:
        return not in_quiet_hours(quiet_hours, now)
    return cron_fired(digest, zone, since, now)


def in_quiet_hours(window: str | None, now: datetime) -> bool:
    """Is `now` (its wall-clock time) inside "HH:MM-HH:MM"? Windows may span midnight."""
    if not window:
        return False
    start, end = (time.fromisoformat(part.strip().zfill(5)) for part in window.split("-"))
    at = now.time().replace(tzinfo=None)
    return start <= at < end if start <= end else (at >= start or at < end)


def cron_fired(expr: str, zone: ZoneInfo, since: datetime, now: datetime) -> bool:
    """Has a fire time of the crontab `expr` passed in (since, now]?"""
    fire = cron_trigger(expr, zone).get_next_fire_time(None, since + timedelta(seconds=1))
    return fire is not None and fire <= now


def cron_trigger(expr: str, zone: ZoneInfo) -> CronTrigger:
    """APScheduler's trigger for a crontab line, its weekdays read as crontab reads them.

    APScheduler 3 numbers weekdays from Monday = 0 (its `from_crontab` passes numbers through),
    so `1-5` would mean Tuesday to Saturday; crontab's 0/7 = Sunday … 6 = Saturday is meant.
    Raises ValueError for an expression APScheduler cannot read.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} has {len(fields)} fields; a crontab line has 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=zone,
    )


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field as weekday names (which APScheduler reads unambiguously)."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        body, _, step = part.partition("/")
        first, last = _weekday_range(body, bool(step))
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday_range(body: str, stepped: bool) -> tuple[int, int]:
    if body in ("*", "?"):
        return 0, 6
    start, _, end = body.partition("-")
    first = _weekday(start)
    last = _weekday(end) if end else (6 if stepped else first)
    return first, last if last >= first else last + 7


def _weekday(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in _WEEKDAYS:
        return _WEEKDAYS.index(token[:3])
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")
