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
    ("어제", None),
    ("2025-02-30", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_resolve(text: str, expected: date | None) -> None:
    assert resolve(text, NOW) == expected
