"""Where a board's run is judged: ok, failed (and why), a layout alarm, or interrupted.

The spider reports how each walk ended and the store pipeline what storing it did; this module
alone decides what that means for the board, in one line a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from records.errors import BoardwatchError
from scraper.errors import CrawlError
from scraper.items import Row, StoredWalk, WalkEnd

LAYOUT = (
    "the list page parsed to 0 posts: has the board's layout changed? (try `scrape probe {url}`)"
)
UNREAD = (
    "the first crawl found no post on the list page with profile {profile!r}: is it the board's "
    "first list page, read with the right profile? (try `scrape probe {url}`)"
)
UNFINISHED = "the walk did not finish (see the log above)"
MOVED = (
    "the board's links changed: {rows} listed post(s) came back under new links with the titles "
    "and dates of stored posts. That is not news: nothing of it was sent. {moved} took the new "
    "links"
)
UNSURE = (
    "; {unsure} could be more than one stored post and were stored as posts of their own, unsent "
    "(`scrape posts --board {board}` shows them; nothing to do unless they were news)"
)


@dataclass(frozen=True, kw_only=True)
class CrawlReport:
    board: str
    started_at: datetime
    finished_at: datetime
    seconds: float
    pages: int = 0
    new: tuple[Row, ...] = ()
    queued: int = 0
    error: BoardwatchError | None = None  # why it failed (or was interrupted); shown as text
    alarm: bool = False  # a layout change: alert at once
    baseline: bool = False
    quiet: int = 0  # the last of `new`, stored silently (a failed first walk's rest, re-keyed)
    warning: str | None = None  # what the run noticed without failing (links re-keyed)
    moved: bool = False  # the board's links were re-keyed: tell the admins once
    interrupted: bool = False  # stopped by a shutdown: neither a success nor a failure
    fetched: float | None = None  # when its first list page answered (monotonic clock)

    @property
    def failed(self) -> bool:
        return self.error is not None and not self.interrupted


def judge(
    board: str,
    url: str,
    stored: StoredWalk | None,
    *,
    closed: str,
    started_at: datetime,
    finished_at: datetime,
    seconds: float,
) -> CrawlReport:
    """The report of one board's run in a crawl (`stored` None: its walk never ended). `closed`
    is why the crawl closed: only a stop signal ("shutdown") interrupts a walk; a walk cut short
    by anything else failed."""
    report = CrawlReport(
        board=board, started_at=started_at, finished_at=finished_at, seconds=seconds
    )
    if stored is None:
        if closed == "shutdown":
            return replace(report, error=CrawlError(board, "", "interrupted"), interrupted=True)
        return replace(report, error=CrawlError(board, "", UNFINISHED))
    error, alarm = _problem(stored, board, url)
    return replace(
        report,
        pages=stored.walk.pages,
        new=stored.new,
        queued=stored.result.queued,
        error=error,
        alarm=alarm,
        baseline=stored.result.baseline,
        quiet=stored.result.quiet,
        warning=_warning(stored, board),
        moved=bool(stored.result.moved or stored.result.unsure),
        fetched=stored.walk.fetched,
    )


def _warning(stored: StoredWalk, board: str) -> str | None:
    """What the run noticed without failing, in one line: links re-keyed, built links that
    lead nowhere."""
    found = list(stored.walk.warnings)
    done = stored.result
    if done.moved or done.unsure:
        unsure = UNSURE.format(unsure=done.unsure, board=board) if done.unsure else ""
        found.append(MOVED.format(rows=done.moved + done.unsure, moved=done.moved) + unsure)
    return "; ".join(found) or None


def _problem(stored: StoredWalk, board: str, url: str) -> tuple[BoardwatchError | None, bool]:
    walk = stored.walk
    if stored.error:
        return stored.error, False
    if walk.error is not None:
        return walk.error, False
    if not walk.end.complete:
        return CrawlError(board, "", UNFINISHED), False
    if walk.end in (WalkEnd.EMPTY, WalkEnd.NO_POSTS_YET) and stored.result.had_posts:
        return CrawlError(board, "", LAYOUT.format(url=url)), True
    if walk.end is WalkEnd.EMPTY:  # a first crawl that read nothing: refuse, don't baseline
        return CrawlError(board, "", UNREAD.format(profile=walk.profile, url=url)), False
    return None, False
