"""Board dates (`2025-07-23`, `25.07.23`, `07-23`, `14:05`) resolved to full dates in a zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_FULL = re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})")
_SHORT = re.compile(r"^(\d{2})[-./](\d{1,2})[-./](\d{1,2})\.?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-./](\d{1,2})\.?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def resolve(text: str, now: datetime) -> date | None:
    """A list date as a full date; `now` is the aware current time in the board's zone.

    A year-less date that would lie in the future is last year's; a time that would lie in the
    future is yesterday's.
    """
    text = text.strip()
    try:
        return _resolve(text, now)
    except ValueError:  # 2025-02-30 and the like
        return None


def _resolve(text: str, now: datetime) -> date | None:
    if m := _FULL.search(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _SHORT.match(text):
        return date(2000 + int(m[1]), int(m[2]), int(m[3]))
    if m := _MONTH_DAY.match(text):
        day = date(now.year, int(m[1]), int(m[2]))
        return day if day <= now.date() else day.replace(year=now.year - 1)
    if m := _TIME.match(text):
        at = time(int(m[1]), int(m[2]), int(m[3] or 0))
        today = now.date()
        return today if at <= now.time() else today - timedelta(days=1)
    return None
