"""List dates in every form boards show them, resolved in the board's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from scraper.dates import resolve

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 5, 10, 30, tzinfo=SEOUL)

CASES = [
    ("2025-07-23", date(2025, 7, 23)),
    ("2025.07.23", date(2025, 7, 23)),
    ("2025. 7. 3.", date(2025, 7, 3)),
    ("2025-07-23 14:05", date(2025, 7, 23)),
    ("25-07-23", date(2025, 7, 23)),
    ("25.07.23", date(2025, 7, 23)),
    ("01-04", date(2026, 1, 4)),  # this year
    ("01-05", date(2026, 1, 5)),  # today
    ("12-28", date(2025, 12, 28)),  # a December post seen in January: last year
    ("09:15", date(2026, 1, 5)),  # earlier today
    ("23:50", date(2026, 1, 4)),  # later than now: yesterday
    ("", None),
    ("2025-02-30", None),
    # how long ago, counted back from 2026-01-05 10:30 in Seoul
    ("방금 전", date(2026, 1, 5)),
    ("방금", date(2026, 1, 5)),
    ("30초 전", date(2026, 1, 5)),
    ("5분 전", date(2026, 1, 5)),
    ("3시간 전", date(2026, 1, 5)),
    ("11시간 전", date(2026, 1, 4)),  # 23:30 yesterday
    ("어제", date(2026, 1, 4)),
    ("그제", date(2026, 1, 3)),
    ("2일 전", date(2026, 1, 3)),
    ("1주 전", date(2025, 12, 29)),
    ("just now", date(2026, 1, 5)),
    ("5 minutes ago", date(2026, 1, 5)),
    ("3 hours ago", date(2026, 1, 5)),
    ("1 hour ago", date(2026, 1, 5)),
    ("12 hrs ago", date(2026, 1, 4)),
    ("2 days ago", date(2026, 1, 3)),
    ("Yesterday", date(2026, 1, 4)),
    ("다음 주", None),
]


def test_a_relative_date_is_counted_back_in_the_boards_zone() -> None:
    """10:30 in Seoul is 01:30 UTC: "3시간 전" is the day before in UTC, not in Seoul."""
    assert resolve("3시간 전", NOW) == date(2026, 1, 5)
    assert resolve("3시간 전", NOW.astimezone(ZoneInfo("UTC"))) == date(2026, 1, 4)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_resolve(text: str, expected: date | None) -> None:
    assert resolve(text, NOW) == expected
