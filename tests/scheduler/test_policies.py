"""The policies as tables of cases: when a digest is due, when a failed target is tried again,
when a board or target counts as failing or recovered."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from records.walk import IngestResult
from scheduler.policy import due, retries, verdict
from scraper.errors import CrawlError
from scraper.items import BoardWalk, Row, StoredWalk, WalkEnd
from storage import health
from storage.errors import StoreError

SEOUL = ZoneInfo("Asia/Seoul")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


QUIET = [  # window, wall-clock time, inside?
    (None, "2025-07-23 03:00", False),
    ("22:00-07:00", "2025-07-23 21:59", False),
    ("22:00-07:00", "2025-07-23 22:00", True),
    ("22:00-07:00", "2025-07-23 23:30", True),
    ("22:00-07:00", "2025-07-24 00:00", True),
    ("22:00-07:00", "2025-07-24 06:59", True),
    ("22:00-07:00", "2025-07-24 07:00", False),
    ("12:00-13:00", "2025-07-23 12:30", True),
    ("12:00-13:00", "2025-07-23 13:00", False),
    ("9:00-17:00", "2025-07-23 08:59", False),
    ("9:00-17:00", "2025-07-23 09:00", True),
]


@pytest.mark.parametrize(("window", "now", "inside"), QUIET)
def test_quiet_hours(window: str | None, now: str, inside: bool) -> None:
    assert due.in_quiet_hours(window, at(now)) is inside


DUE = [  # digest, quiet hours, last digest (or first seen), now, due?
    ("immediate", None, "2025-07-23 09:00", "2025-07-23 09:00", True),
    ("immediate", "22:00-07:00", "2025-07-23 09:00", "2025-07-23 23:00", False),
    ("immediate", "22:00-07:00", "2025-07-23 09:00", "2025-07-24 07:00", True),
    ("0 9 * * *", None, "2025-07-23 09:00", "2025-07-23 18:00", False),  # today's has gone out
    ("0 9 * * *", None, "2025-07-23 08:59", "2025-07-23 09:00", True),  # the fire time itself
    ("0 9 * * *", None, "2025-07-22 09:00", "2025-07-23 09:30", True),  # a day later
    ("0 9 * * *", None, "2025-07-21 10:00", "2025-07-23 08:00", True),  # missed fire times count
    (
        "0 9 * * *",
        "08:00-10:00",
        "2025-07-22 09:00",
        "2025-07-23 09:00",
        True,
    ),  # quiet: only for immediate
    ("0 9 * * 1-5", None, "2025-07-25 09:00", "2025-07-27 12:00", False),  # Fri 09:00 → Sun
    ("0 9 * * 1-5", None, "2025-07-25 09:00", "2025-07-28 09:00", True),  # → Mon 09:00
    ("*/30 * * * *", None, "2025-07-23 09:00", "2025-07-23 09:29", False),
    ("*/30 * * * *", None, "2025-07-23 09:00", "2025-07-23 09:30", True),
]


@pytest.mark.parametrize(("digest", "quiet", "since", "now", "expected"), DUE)
def test_digest_is_due(
    digest: str, quiet: str | None, since: str, now: str, expected: bool
) -> None:
    assert due.is_due(digest, quiet, at(since), at(now), SEOUL) is expected


MINUTE, HOUR = 60.0, 3600.0
DELAYS = [  # failures in a row → seconds before the next try (base 1 m, cap 1 h)
    (0, 0),
    (1, 0),  # the first failure: the next run tries at once
    (2, MINUTE),
    (3, 2 * MINUTE),
    (4, 4 * MINUTE),
    (7, 32 * MINUTE),
    (8, HOUR),  # 64 min capped
    (50, HOUR),  # and never gives up
]


@pytest.mark.parametrize(("failures", "seconds"), DELAYS)
def test_retry_delay_doubles_up_to_the_cap(failures: int, seconds: float) -> None:
    assert retries.delay(failures, MINUTE, HOUR) == seconds


T0 = at("2025-07-23 09:00")
MAY_TRY = [  # failures, last failure, now, spaced (the daemon)?, may try?
    (0, None, T0, True, True),
    (1, T0, T0, True, True),
    (3, T0, T0 + timedelta(seconds=119), True, False),
    (3, T0, T0 + timedelta(seconds=120), True, True),
    (3, T0, T0 + timedelta(seconds=1), False, True),  # `scrape digest` does not wait
    (9, T0, T0 + timedelta(minutes=59), True, False),
    (9, T0, T0 + timedelta(minutes=60), True, True),
]


@pytest.mark.parametrize(("failures", "last", "now", "spaced", "expected"), MAY_TRY)
def test_may_try(
    failures: int, last: datetime | None, now: datetime, spaced: bool, expected: bool
) -> None:
    assert retries.may_try(failures, last, now, MINUTE, HOUR, spaced=spaced) is expected


def test_held_until_says_when() -> None:
    assert retries.held_until(3, T0, MINUTE, HOUR) == T0 + timedelta(minutes=2)
    assert retries.held_until(1, T0, MINUTE, HOUR) is None


H = health.Health
HEALTH = [  # before, failed?, threshold, alarm?, after, change
    (H(), False, 3, False, H(), None),
    (H(), True, 3, False, H(1), None),
    (H(2), True, 3, False, H(3, True), "failing"),
    (H(3, True), True, 3, False, H(4, True), None),  # one alert per outage
    (H(4, True), False, 3, False, H(), "recovered"),  # and one recovery
    (H(2), False, 3, False, H(), None),  # recovered before anyone was told: nothing to say
    (H(), True, 3, True, H(1, True), "failing"),  # a layout alarm does not wait for a streak
    (H(), True, 1, False, H(1, True), "failing"),
]


@pytest.mark.parametrize(("before", "failed", "threshold", "alarm", "after", "change"), HEALTH)
def test_health(
    before: health.Health,
    failed: bool,
    threshold: int,
    alarm: bool,
    after: health.Health,
    change: str | None,
) -> None:
    assert health.step(before, failed, threshold, alarm=alarm) == (after, change)


WEEKDAYS = [  # crontab's day-of-week field → the weekdays it means
    ("1-5", "mon,tue,wed,thu,fri"),
    ("0", "sun"),
    ("7", "sun"),
    ("0,6", "sun,sat"),
    ("5-7", "sun,fri,sat"),
    ("*/2", "sun,tue,thu,sat"),
    ("mon-fri", "mon,tue,wed,thu,fri"),
    ("*", "*"),
]


@pytest.mark.parametrize(("field", "names"), WEEKDAYS)
def test_crontab_weekdays_mean_what_crontab_means(field: str, names: str) -> None:
    assert due.crontab_weekdays(field) == names


def test_weekday_digest_skips_the_weekend() -> None:
    trigger = due.cron_trigger("0 9 * * 1-5", SEOUL)
    fires, day = [], at("2025-07-25 09:00")  # a Friday
    for _ in range(3):
        day = trigger.get_next_fire_time(None, day + timedelta(seconds=1))
        fires.append(day.strftime("%a %d"))
    assert fires == ["Mon 28", "Tue 29", "Wed 30"]


OVERDUE = [  # last run, interval, cron, stalled from (status --check fails from then on)
    ("2025-07-23 09:00", "10m", None, "2025-07-23 09:30"),
    ("2025-07-23 23:50", "1h", None, "2025-07-24 02:50"),
    ("2025-07-23 09:00", "10m", "0 9 * * *", "2025-07-26 09:00"),  # three daily fire times
    ("2025-07-25 09:00", "10m", "0 9 * * 1-5", "2025-07-30 09:00"),  # Friday: Mon, Tue, Wed
    ("2025-07-23 09:05", "10m", "*/15 * * * *", "2025-07-23 09:45"),
]


@pytest.mark.parametrize(("last", "interval", "cron", "stalled"), OVERDUE)
def test_a_board_is_stalled_three_intervals_after_its_last_run(
    last: str, interval: str, cron: str | None, stalled: str
) -> None:
    from scheduler.ops.healthcheck import overdue_at

    assert overdue_at(at(last), interval, cron, SEOUL) == at(stalled)


# verdict: how one board's run is judged, from how its walk ended and why the crawl closed
T = datetime(2026, 12, 1, 9, 0, tzinfo=SEOUL)


def walk(end: WalkEnd, rows: int = 0, error: CrawlError | None = None) -> BoardWalk:
    row = Row(
        key="1",
        number=None,
        title="t",
        url="u",
        author=None,
        date=None,
        views=None,
        new_marker=False,
        notice=False,
    )
    return BoardWalk(
        board="esg", rows=(row,) * rows, end=end, pages=1, baseline=False, backfill=0, error=error
    )


@pytest.mark.parametrize(
    ("stored", "closed", "error", "interrupted"),
    [
        (None, "shutdown", "interrupted", True),  # SIGTERM: neither success nor failure
        (None, "finished", verdict.UNFINISHED, False),  # the crawl ended without this walk
        (None, "", verdict.UNFINISHED, False),  # cut off without a stop signal: a failure
        (None, "cancelled", verdict.UNFINISHED, False),
        (StoredWalk(walk=walk(WalkEnd.CAUGHT_UP, 1)), "finished", None, False),
        (
            StoredWalk(walk=walk(WalkEnd.FAILED, 1, CrawlError("esg", "u", "HTTP 503"))),
            "finished",
            "HTTP 503 (u)",
            False,
        ),
        (
            StoredWalk(walk=walk(WalkEnd.EMPTY), result=IngestResult(had_posts=True)),
            "finished",
            "parsed to 0 posts",
            False,
        ),
        (
            StoredWalk(walk=walk(WalkEnd.EMPTY), result=IngestResult(had_posts=False)),
            "finished",
            "found no post",
            False,
        ),
        (
            StoredWalk(walk=walk(WalkEnd.END, 1), error=StoreError("could not store")),
            "finished",
            "could not store",
            False,
        ),
    ],
)
def test_a_boards_run_is_judged_by_its_walk_and_why_the_crawl_closed(
    stored: StoredWalk | None, closed: str, error: str | None, interrupted: bool
) -> None:
    report = verdict.judge(
        "esg", "http://b/list", stored, closed=closed, started_at=T, finished_at=T, seconds=0.1
    )
    assert report.interrupted is interrupted
    shown = report.error.shown() if report.error else None
    assert (shown is None) if error is None else (error in (shown or ""))
    assert report.failed is (error is not None and not interrupted)
