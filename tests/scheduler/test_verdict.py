"""How a board's run is judged, case by case: what the spider said of the walk and what storing
it did, in, the board's verdict (ok, failed and why, a layout alarm, interrupted) out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from records.walk import IngestResult
from scheduler.policy import verdict
from scraper.errors import CrawlError
from scraper.items import BoardWalk, StoredWalk, WalkEnd
from storage.errors import StoreError

URL = "https://esg.example.kr/board.php?bo_table=esg"
AT = datetime(2026, 12, 2, tzinfo=UTC)


def walk(
    end: WalkEnd, error: CrawlError | None = None, warnings: tuple[str, ...] = ()
) -> BoardWalk:
    return BoardWalk(
        board="esg",
        rows=(),
        end=end,
        pages=1,
        baseline=False,
        backfill=0,
        error=error,
        profile="esg",
        warnings=warnings,
    )


@dataclass(frozen=True)
class Case:
    name: str
    stored: StoredWalk | None
    closed: str = "finished"
    error: str | None = None  # a part of the error, or None: the run is ok
    alarm: bool = False
    interrupted: bool = False
    moved: bool = False
    warning: str | None = None  # a part of the warning


CASES = [
    Case("caught up", StoredWalk(walk=walk(WalkEnd.CAUGHT_UP))),
    Case("walked to the end", StoredWalk(walk=walk(WalkEnd.END))),
    Case("walked max_pages", StoredWalk(walk=walk(WalkEnd.MAX_PAGES))),
    Case("stopped by a shutdown", None, closed="shutdown", error="interrupted", interrupted=True),
    Case("cut short otherwise", None, closed="finished", error="did not finish"),
    Case(
        "a list page failed",
        StoredWalk(walk=walk(WalkEnd.FAILED, CrawlError("esg", URL, "list page failed: HTTP 503"))),
        error="HTTP 503",
    ),
    Case(
        "a page that cannot be read right, with its hint",
        StoredWalk(
            walk=walk(WalkEnd.REFUSED, CrawlError("esg", URL, "two rows share", "try probe"))
        ),
        error=f"two rows share ({URL}); try probe",  # the page named, the hint after
    ),
    Case(
        "the store refused the walk",
        StoredWalk(
            walk=walk(WalkEnd.CAUGHT_UP), error=StoreError("could not store the walk: locked")
        ),
        error="could not store the walk",
    ),
    Case(
        "a board with posts now shows none",
        StoredWalk(walk=walk(WalkEnd.EMPTY), result=IngestResult(had_posts=True)),
        error="layout changed",
        alarm=True,
    ),
    Case(
        "a board with posts now says it has none",
        StoredWalk(walk=walk(WalkEnd.NO_POSTS_YET), result=IngestResult(had_posts=True)),
        error="layout changed",
        alarm=True,
    ),
    Case(
        "a first crawl that read no post",
        StoredWalk(walk=walk(WalkEnd.EMPTY), result=IngestResult(had_posts=False, baseline=True)),
        error="first crawl found no post",
    ),
    Case(
        "a new board that says it has no posts yet",
        StoredWalk(
            walk=walk(WalkEnd.NO_POSTS_YET), result=IngestResult(had_posts=False, baseline=True)
        ),
    ),
    Case(
        "links re-keyed: ok, said once",
        StoredWalk(walk=walk(WalkEnd.CAUGHT_UP), result=IngestResult(moved=12, unsure=1)),
        moved=True,
        warning="13 listed post(s) came back under new links",
    ),
    Case(
        "a built link that leads nowhere: ok, noticed",
        StoredWalk(
            walk=walk(WalkEnd.CAUGHT_UP, warnings=("post links built from x lead nowhere",))
        ),
        warning="lead nowhere",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_runs_verdict(case: Case) -> None:
    report = verdict.judge(
        "esg", URL, case.stored, closed=case.closed, started_at=AT, finished_at=AT, seconds=1.0
    )
    if case.error is None:
        assert report.error is None and not report.failed
    else:
        assert report.error is not None and case.error in report.error.shown(), report.error
        assert report.failed is not case.interrupted
    assert report.alarm is case.alarm and report.interrupted is case.interrupted
    assert report.moved is case.moved
    if case.warning is None:
        assert report.warning is None
    else:
        assert report.warning is not None and case.warning in report.warning, report.warning
