"""Board dates (`2025-07-23`, `25.07.23`, `07-23`, `14:05`, `3시간 전`, `어제`) resolved to full
dates in a zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_FULL = re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})")
_SHORT = re.compile(r"^(\d{2})[-./](\d{1,2})[-./](\d{1,2})\.?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-./](\d{1,2})\.?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
# How long ago, as Korean and English boards say it: "방금 전", "5분 전", "3 hours ago", "어제".
_AGO = re.compile(
    r"^(\d+)\s*(초|분|시간|일|주|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s*"
    r"(?:전|ago)$",
    re.IGNORECASE,
)
_UNITS = {
    "초": 1, "second": 1, "sec": 1,
    "분": 60, "minute": 60, "min": 60,
    "시간": 3600, "hour": 3600, "hr": 3600,
    "일": 86400, "day": 86400,
    "주": 7 * 86400, "week": 7 * 86400,
}  # fmt: skip
_DAYS_AGO = {
    "방금": 0, "방금 전": 0, "just now": 0, "now": 0, "오늘": 0, "today": 0,
    "어제": 1, "yesterday": 1, "그제": 2, "그저께": 2,
}  # fmt: skip


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
    if (relative := _relative(text, now)) is not None:
        return relative
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


def _relative(text: str, now: datetime) -> date | None:
    """ "5분 전", "3 hours ago", "어제": the day it was, counted back from `now` in its zone."""
    said = " ".join(text.casefold().split())
    if said in _DAYS_AGO:
        return now.date() - timedelta(days=_DAYS_AGO[said])
    if m := _AGO.match(said):
        unit = m[2].rstrip("s") if m[2] not in ("초", "분", "시간", "일", "주") else m[2]
        return (now - timedelta(seconds=int(m[1]) * _UNITS[unit])).date()
    return None
