"""The walk, page by page: one row per situation, each a board's pages in order and what each
step calls for — the step function alone, no Scrapy, no store.

Pages are written as their rows, newest first: `5` a post, `N:9` a notice, `/s/a` a row linked by
its path alone (a title slug), `B:5` a post whose address was built (from a script), `X:/s/a` a
row linking to another host; `=Title` gives a row its title (else `post <key>`). A kept row
listed under an alias shows as `key@alias`; a post page read to learn which post it is, as
`key?`.

A page may end in its pager: `| 2 3 9` links pages 2, 3 and 9 by `?cpage=N` (a parameter no profile
knows), `| 1` links only page 1 (nothing past this page), `| @https://elsewhere.example/list?p=N`
turns pages on another site.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from scraper.errors import CrawlError
from scraper.items import BoardTask, KnownPost, Row, WalkEnd
from scraper.pager import Pager, Turn
from scraper.profiles import BUILTIN
from scraper.walk import Entry, Failed, Listing, Page, Refused, Step, Walk, asks, step

BOARD = "https://board.example/list"
ERROR = CrawlError("b", BOARD, "HTTP 500")
FAILED, UNREADABLE, REFUSED = Failed(ERROR), Failed(ERROR, fetched=True), Refused(ERROR)
NONE_YET = "(the board says it has no posts)"
AHEAD = (2, 3, 4, 5)  # page 1 all new: the next four asked for at once


@dataclass(frozen=True)
class Stored:
    """A stored post (the store's `KnownPost`)."""

    title: str = ""
    settled: bool = True
    key: str | None = None  # its own key, when it is known here by an alias
    order: tuple[float, int] = (0.0, 0)
    url: str = ""

    def same_title(self, title: str) -> bool:
        return title == (self.title or title)


@dataclass(frozen=True)
class Out:
    rows: str = ""
    fetch: str = ""
    pages: tuple[int, ...] = ()
    end: WalkEnd | None = None


@dataclass(frozen=True)
class Case:
    name: str
    pages: list[str | Page]
    expect: list[Out]
    stored: Mapping[str, Stored] = field(default_factory=dict)
    task: Mapping[str, Any] = field(default_factory=dict)
    disallowed: tuple[str, ...] = ()  # robots.txt: addresses holding these are not fetched
    walked: int | None = None  # list pages walked (default: every page given)
    seen: str | None = None  # every key and alias the walk met (the item's `listed`)


def settled(*keys: str) -> dict[str, Stored]:
    return {key: Stored() for key in keys}


def unsettled(*keys: str) -> dict[str, Stored]:
    return {key: Stored(settled=False) for key in keys}


CASES = [
    # how far a walk goes
    Case(
        "page 1 all new: kept, their pages read, the next four list pages asked for",
        ["5 4 3"],
        [Out("5 4 3", "5 4 3", AHEAD)],
    ),
    Case(
        "a quiet run: page 1 all stored and settled, caught up after one page",
        ["3 2 1"],
        [Out(end=WalkEnd.CAUGHT_UP)],
        stored=settled("3", "2", "1"),
    ),
    Case(
        "caught up on page 2: a page with a stored post asks for one page more",
        ["7 6 5", "4 3 2"],
        [Out("7 6", "7 6", (2,)), Out(end=WalkEnd.CAUGHT_UP)],
        stored=settled("5", "4", "3", "2", "1"),
    ),
    Case(
        "a long gap: pages asked for ahead stay ahead, each all-new page asks one past them",
        ["9 8", "7 6", "5 4"],
        [Out("9 8", "9 8", AHEAD), Out("7 6", "7 6", (6,)), Out("5", "5")],
        stored=settled("4"),
    ),
    Case(
        "max_pages reached: never asks past it, ends there",
        ["6 5", "4 3", "2 1"],
        [Out("6 5", "6 5", (2, 3)), Out("4 3", "4 3"), Out("2 1", "2 1", end=WalkEnd.MAX_PAGES)],
        task={"max_pages": 3},
    ),
    Case(
        "max_pages of 1: page 1 alone",
        ["2 1"],
        [Out("2 1", "2 1", end=WalkEnd.MAX_PAGES)],
        task={"max_pages": 1},
    ),
    Case(
        "the end of the board: a page past the last repeats what was seen",
        ["2 1", "2 1"],
        [Out("2 1", "2 1", AHEAD), Out(end=WalkEnd.END)],
    ),
    Case(
        "the end of the board: a page past the last is empty",
        ["2 1", ""],
        [Out("2 1", "2 1", AHEAD), Out(end=WalkEnd.END)],
    ),
    # how a walk fails
    Case("empty first page (a layout change?)", [""], [Out(end=WalkEnd.EMPTY)]),
    Case("a board with no posts yet", [NONE_YET], [Out(end=WalkEnd.NO_POSTS_YET)]),
    Case(
        "first page failed: nothing walked",
        [FAILED],
        [Out(end=WalkEnd.FAILED)],
        walked=0,
    ),
    Case(
        "page 2 failed after page 1: page 1's rows stand, the walk failed",
        ["4 3", FAILED],
        [Out("4 3", "4 3", AHEAD), Out(end=WalkEnd.FAILED)],
        walked=1,
    ),
    Case("a page fetched but not readable: failed", [UNREADABLE], [Out(end=WalkEnd.FAILED)]),
    Case("a page that cannot be read right: refused", [REFUSED], [Out(end=WalkEnd.REFUSED)]),
    # the first walk
    Case(
        "baseline: every post kept, the pages of the newest `backfill` read, never a notice's",
        ["N:9 5 4", "3 2"],
        [Out("9 5 4", "5 4", AHEAD), Out("3 2", "3", (6,))],
        task={"baseline": True, "backfill": 3},
    ),
    Case(
        "baseline without backfill: no post page read",
        ["2 1"],
        [Out("2 1", "", AHEAD)],
        task={"baseline": True},
    ),
    Case(
        "resumed after a failed first crawl: posts above its stored ones are news (read), "
        "below them the rest of the baseline",
        ["6 5 4 3", "2 1"],
        [Out("6 5 4 3", "6 5", (2,)), Out("2 1", "", (3, 4, 5, 6))],
        stored=unsettled("4", "3"),
        task={"baseline": True, "resumed": True},
    ),
    Case(
        "resumed: a stored notice pinned above does not count as meeting the stored posts",
        ["N:9 6 4 3"],
        [Out("9 6 4 3", "6", (2,))],
        stored=unsettled("9", "4", "3"),
        task={"baseline": True, "resumed": True},
    ),
    # notices
    Case(
        "a notice pinned on every page: met once, then not in the way of catching up",
        ["N:9 6 5 4", "N:9 3 2 1"],
        [Out("9 6 5 4", "9 6 5 4", AHEAD), Out(end=WalkEnd.CAUGHT_UP)],
        stored=settled("3", "2", "1"),
    ),
    Case(
        "a stored notice pinned above new posts: the page is still all new",
        ["N:9 6 5"],
        [Out("6 5", "6 5", AHEAD)],
        stored=settled("9"),
    ),
    Case(
        "a new notice on a quiet board: kept, and page 2 read to be sure",
        ["N:9 4 3", "N:9 2 1"],
        [Out("9", "9", (2,)), Out(end=WalkEnd.CAUGHT_UP)],
        stored=settled("4", "3", "2", "1"),
    ),
    # what counts as stored
    Case(
        "stored posts a failed walk left unsettled are not caught up: kept, not read again",
        ["3 2 1", ""],
        [Out("3 2 1", "", (2,)), Out(end=WalkEnd.END)],
        stored=unsettled("3", "2", "1"),
    ),
    Case(
        "a retitled stored post: kept (an update), its page not read, still caught up",
        ["3 2 1"],
        [Out("2", end=WalkEnd.CAUGHT_UP)],
        stored={**settled("3", "1"), "2": Stored("an older title")},
    ),
    # rows linked by a path alone
    Case(
        "an alias: a row linked by a path a stored post was listed under is that post",
        ["/s/a=A"],
        [Out(end=WalkEnd.CAUGHT_UP)],
        stored={"/s/a": Stored("A", key="49")},
        seen="/s/a 49",
    ),
    Case(
        "an alias of an unsettled post: kept under the post's key, the path its alias",
        ["/s/a=A"],
        [Out("49@/s/a", "", (2,))],
        stored={"/s/a": Stored("A", settled=False, key="49")},
    ),
    Case(
        "an alias under an edited title: unknown until its page says which post it is",
        ["/s/a=Edited"],
        [Out("/s/a", "/s/a?", AHEAD)],
        stored={"/s/a": Stored("A", key="49")},
    ),
    Case(
        "an alias listed above a post stored after its own: not that post, its page says",
        ["/s/a=A 7"],
        [Out("/s/a", "/s/a?", (2,))],
        stored={"/s/a": Stored("A", key="49", order=(1.0, 0)), "7": Stored(order=(2.0, 0))},
    ),
    Case(
        "two rows under paths one stored post was listed under: neither is taken for it",
        ["/s/a=A /s/b=A"],
        [Out("/s/a /s/b", "/s/a? /s/b?", AHEAD)],
        stored={"/s/a": Stored("A", key="49"), "/s/b": Stored("A", key="49")},
    ),
    Case(
        "a new row linked by a path: its page says which post it is",
        ["/s/b"],
        [Out("/s/b", "/s/b?", AHEAD)],
    ),
    Case(
        "a row linked by a path on another host: the path stays its key, nothing read",
        ["X:/s/b"],
        [Out("/s/b", "", AHEAD)],
    ),
    Case(
        "identify off: an alias under an edited title stays the path's (kept as an update)",
        ["/s/a=Edited"],
        [Out("/s/a", end=WalkEnd.CAUGHT_UP)],
        stored={"/s/a": Stored("A", key="49")},
        task={"identify": False, "details": False},
    ),
    # what may be read
    Case(
        "robots.txt closes the board from page 3: the walk ends at page 2",
        ["4 3", "2 1"],
        [Out("4 3", "4 3", (2,)), Out("2 1", "2 1", end=WalkEnd.END)],
        disallowed=("page=3",),
    ),
    Case(
        "robots.txt disallows post pages: kept, not read",
        ["2 1"],
        [Out("2 1", "", AHEAD)],
        disallowed=("/view",),
    ),
    Case(
        "details off: no post page read", ["2 1"], [Out("2 1", "", AHEAD)], task={"details": False}
    ),
    Case(
        "built addresses: the first post's page is read to check them, once",
        ["B:3 B:2"],
        [Out("3 2", "3", AHEAD)],
        task={"details": False},
    ),
    # pages as the pager says they turn
    Case(
        "a pager by a parameter the profile does not know: pages asked for where it points",
        ["6 5 | 2 3", "4 3 | 1 3", "2 1 | 1 2"],
        [Out("6 5", "6 5", (2, 3)), Out("4 3", "4 3"), Out("2 1", "2 1", end=WalkEnd.END)],
        walked=3,
    ),
    Case(
        "a page that repeats the one before, where the pager promised it: an error, not ok",
        ["6 5 | 2 3", "6 5 | 1 3"],
        [Out("6 5", "6 5", (2, 3)), Out(end=WalkEnd.FAILED)],
    ),
    Case(
        "a repeated page but for its pinned notices: still a repeat",
        ["N:9 6 5 | 2", "N:9 6 5 | 1"],
        [Out("9 6 5", "9 6 5", (2,)), Out(end=WalkEnd.FAILED)],
    ),
    Case(
        "a page with some rows already met (a post pushed down a page): a page like any other",
        ["6 5 | 2", "5 4 | 1 3", ""],
        [Out("6 5", "6 5", (2,)), Out("4", "4", (3,)), Out(end=WalkEnd.END)],
    ),
    Case(
        "the pager shows no page past the first: the walk ends without asking",
        ["2 1 | 1"],
        [Out("2 1", "2 1", end=WalkEnd.END)],
    ),
    Case(
        "a pager leading to another site: not followed, an error",
        ["2 1 | @https://elsewhere.example/list?p=N"],
        [Out("2 1", "2 1", end=WalkEnd.FAILED)],
    ),
]


def entry(spec: str) -> Entry:
    spec, _, title = spec.partition("=")
    notice, built, elsewhere = spec.startswith("N:"), spec.startswith("B:"), spec.startswith("X:")
    key = spec[2:] if notice or built or elsewhere else spec
    path = key.startswith("/")
    host = "https://elsewhere.example" if elsewhere else "https://board.example"
    url = f"{host}{key}" if path else f"{host}/view?no={key}"
    return Entry(key, title or f"post {key}", notice, path, url, "fnView()" if built else None)


def page_of(spec: str | Page, number: int = 1) -> Page:
    if not isinstance(spec, str):
        return spec
    if spec == NONE_YET:
        return Listing([], read_whole([]), empty=True)
    rows, bar, links = spec.partition(" | ")
    entries = [entry(word) for word in rows.split()]
    url = f"{BOARD}?cpage={number}"
    pager = pager_of(links, number) if bar else None
    return Listing(entries, read_whole(entries), url=url, pager=lambda: pager)


def pager_of(spec: str, number: int) -> Pager:
    if spec.startswith("@"):
        turn = Turn(spec[1:].replace("=N", "=1"), "p")
        return Pager(number, {}, turn, True)
    turn = Turn(f"{BOARD}?cpage=1", "cpage")
    pages = [int(word) for word in spec.split()]
    links = {n: turn.url(n) for n in pages}
    return Pager(number, links, turn, any(n > number for n in pages))


def read_whole(entries: Sequence[Entry]) -> Callable[[Mapping[str, str]], list[Row]]:
    def read(keys: Mapping[str, str]) -> list[Row]:
        return [row(e, keys[e.key]) for e in entries if e.key in keys]

    return read


def row(listed: Entry, key: str) -> Row:
    return Row(
        key=key,
        number=None,
        title=listed.title,
        url=listed.url or BOARD,
        author=None,
        date=None,
        views=None,
        new_marker=False,
        notice=listed.notice,
    )


def lookup(stored: Mapping[str, Stored], page: Page) -> dict[str, KnownPost]:
    """What the store answers for a page's keys and paths."""
    assert isinstance(page, Listing)
    return {e.key: stored[e.key] for e in page.entries if e.key in stored}


def out(done: Step) -> Out:
    rows = [r["key"] + (f"@{r['alias']}" if r.get("alias") else "") for r in done.rows]
    fetch = [f.key + ("?" if f.identify else "") for f in done.fetch]
    return Out(" ".join(rows), " ".join(fetch), tuple(n for n, _ in done.pages), done.end)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_walk_page_by_page(case: Case) -> None:
    task = BoardTask(name="b", url=BOARD, profile=BUILTIN["auto"], **case.task)
    walk, steps = Walk(task), []

    def allowed(url: str) -> bool:
        return not any(part in url for part in case.disallowed)

    for number, spec in enumerate(case.pages, 1):
        assert walk.end is None
        page = page_of(spec, number)
        known = lookup(case.stored, page) if asks(walk, page) else None
        walk, done = step(walk, page, known, allowed)
        steps.append(out(done))
    assert steps == case.expect
    assert walk.end is case.expect[-1].end
    assert walk.pages == (len(case.pages) if case.walked is None else case.walked)
    if case.seen is not None:
        assert walk.seen == frozenset(case.seen.split())


def test_list_pages_are_asked_for_at_the_addresses_the_pager_gives() -> None:
    task = BoardTask(name="b", url=f"{BOARD}?menuNo=7", profile=BUILTIN["egov"])
    walk, done = step(Walk(task), page_of("6 5 | 2 3"), {})
    assert [url for _, url in done.pages] == [f"{BOARD}?cpage={n}" for n in (2, 3)]
    walk, done = step(walk, page_of("4 3 | 1 2 4", 2), {})
    assert walk.turns.describe() == "?cpage=N (from the pager)"


def test_without_a_pager_pages_turn_by_the_profiles_page_param() -> None:
    task = BoardTask(name="b", url=f"{BOARD}?menuNo=7", profile=BUILTIN["egov"])
    walk, done = step(Walk(task), page_of("6 5"), {})
    assert done.pages[0] == (2, f"{BOARD}?menuNo=7&pageIndex=2")
    assert "page_param" in walk.turns.describe()


def test_a_repeated_page_the_pager_promised_names_the_board_and_how_pages_turned() -> None:
    walk, _ = step(
        Walk(BoardTask(name="b", url=BOARD, profile=BUILTIN["auto"])), page_of("6 5 | 2")
    )
    walk, done = step(walk, page_of("6 5 | 1 2", 2), {})
    assert done.end is WalkEnd.FAILED and walk.error is not None and walk.error.board == "b"
    assert "did not turn the page" in str(walk.error) and "?cpage=N" in str(walk.error)


def test_a_step_leaves_the_walk_it_was_given_as_it_was() -> None:
    task = BoardTask(name="b", url=BOARD, profile=BUILTIN["auto"])
    before = Walk(task)
    after, _ = step(before, page_of("2 1"), {})
    assert before == Walk(task)
    assert (after.pages, after.requested, after.seen) == (1, 5, frozenset({"1", "2"}))


def test_a_page_of_rows_already_met_asks_nothing_of_the_store() -> None:
    walk, _ = step(Walk(BoardTask(name="b", url=BOARD, profile=BUILTIN["auto"])), page_of("2 1"))
    assert not asks(walk, page_of("2 1"))
    assert asks(walk, page_of("N:2 0"))
    assert not asks(walk, FAILED)
