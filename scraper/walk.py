"""How a board's list walk proceeds, page by page: which rows are news, which post pages to read,
whether to ask for the next list page, and how the walk ends.

A pure step function over plain values: `step(walk, page, known, allowed)` takes the walk so far,
the next list page in the board's order (or why it could not be had) and what the store knows of
its rows, and returns the walk after it and a `Step` saying what to do. The spider owns the
fetching, the reading, the store's lookups and the order pages arrive in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from w3lib.url import safe_url_string

from scraper.errors import CrawlError
from scraper.items import BoardTask, KnownPost, Row, WalkEnd
from scraper.origins import origin_of, shown
from scraper.pager import Pager, Paging, paging_for

PREFETCH = 4  # list pages asked for ahead while every post on them is new
NOTHING: Mapping[str, str] = MappingProxyType({})


class Walk(NamedTuple):  # a tuple: a step makes a few, cheaply (a quiet crawl, one a board)
    """One board's walk so far (page 1 is asked for when it starts)."""

    task: BoardTask
    pages: int = 0  # list pages walked
    requested: int = 1  # the furthest list page asked for
    seen: frozenset[str] = frozenset()  # every key (and alias) met on the pages walked
    above: frozenset[str] = frozenset()  # a resumed first walk: keys above its stored posts
    met: bool = False  # a resumed first walk reached a post the failed one stored
    aliases: Mapping[str, str] = NOTHING  # key -> path it is listed under
    unknown: frozenset[str] = frozenset()  # paths whose post page must say the id
    built: Mapping[str, str] = NOTHING  # key -> what its address came from
    checking: bool = False  # a post page at a built address was asked for: one check does
    fetched: int = 0  # post pages asked for their details
    end: WalkEnd | None = None
    error: CrawlError | None = None
    paging: Paging | None = None  # how its pages turn, as the pages walked said (None: page 1's)
    elsewhere: frozenset[str] = frozenset()  # origins of post links it did not read (not its site)

    @property
    def turns(self) -> Paging:
        return self.paging or paging_for(self.task.url, self.task.profile.page_param)


class Entry(NamedTuple):  # a tuple: every row of every list page is one, made cheaply
    """A list row as the walk needs it (its key as listed)."""

    key: str
    title: str
    notice: bool = False
    path: bool = False  # the key is the link's path (a title slug): maybe an alias
    url: str | None = None
    built: str | None = None  # what the address was built from, when not the link's own


def _no_pager() -> Pager | None:
    return None


@dataclass(frozen=True)
class Listing:
    """A list page read. `read` reads rows whole — costly, so only for the rows a walk keeps:
    listed key -> the key to keep it under; the rows in the page's order. `pager` reads its
    pager — only when the walk goes on past it."""

    entries: Sequence[Entry]
    read: Callable[[Mapping[str, str]], Sequence[Row]]
    empty: bool = False  # the list is there, and says the board has no posts
    url: str = ""
    pager: Callable[[], Pager | None] = _no_pager


@dataclass(frozen=True)
class Failed:
    """A list page that could not be fetched (not walked), or was but could not be read."""

    error: CrawlError
    fetched: bool = False


@dataclass(frozen=True)
class Refused:
    """A list page that cannot be read right (rows that cannot be told apart)."""

    error: CrawlError


Page = Listing | Failed | Refused


@dataclass(frozen=True)
class Fetch:
    """A post page to read: for its details, or (`identify`) to learn which post it is."""

    key: str
    url: str
    identify: bool = False


@dataclass(frozen=True)
class Step:
    """What one list page calls for: rows to keep, post pages and list pages to ask for, the end."""

    rows: tuple[Row, ...] = ()
    fetch: tuple[Fetch, ...] = ()
    pages: tuple[tuple[int, str], ...] = ()  # list pages to ask for: (number, address)
    end: WalkEnd | None = None


def _anywhere(url: str) -> bool:
    return True


def asks(walk: Walk, page: Page) -> bool:
    """Does the walk need the store's knowledge of this page's rows (it has rows not met yet)?"""
    return isinstance(page, Listing) and any(e.key not in walk.seen for e in page.entries)


def step(
    walk: Walk,
    page: Page,
    known: Mapping[str, KnownPost] | None = None,
    allowed: Callable[[str], bool] = _anywhere,
) -> tuple[Walk, Step]:
    """The walk after its next list page (`known`: the stored posts among the page's keys and
    aliases, when `asks`; `allowed`: robots.txt's word on an address)."""
    if isinstance(page, Failed):
        return _ended(walk._replace(pages=walk.pages + page.fetched), WalkEnd.FAILED, page.error)
    walk = walk._replace(pages=walk.pages + 1)
    if isinstance(page, Refused):
        return _ended(walk, WalkEnd.REFUSED, page.error)
    if walk.pages > 1 and _repeats(walk, page):
        return _repeated(walk, page)
    if not asks(walk, page):
        first = WalkEnd.NO_POSTS_YET if page.empty else WalkEnd.EMPTY
        return _ended(walk, first if walk.pages == 1 else WalkEnd.END)
    return _listed(walk, page, known or {}, allowed)


def _ended(walk: Walk, end: WalkEnd, error: CrawlError | None = None) -> tuple[Walk, Step]:
    return walk._replace(end=end, error=error), Step(end=end)


def _repeats(walk: Walk, page: Listing) -> bool:
    """Does the page show only posts of the pages walked before it (pinned notices aside)? Then
    it is no further page: the board did not turn the page as asked."""
    posts = [entry.key for entry in page.entries if not entry.notice]
    return bool(posts) and all(key in walk.seen for key in posts)


def _repeated(walk: Walk, page: Listing) -> tuple[Walk, Step]:
    """A page that repeats the ones before it ends the walk — an error where a pager said the
    board goes on (posts below would go unread while the run says ok)."""
    if walk.turns.promised < walk.pages:
        return _ended(walk, WalkEnd.END)
    reason = (
        f"list page {walk.pages} shows only posts of the pages before it: the board did not turn "
        f"the page at {page.url}, though its pager shows {walk.pages} pages or more "
        f"(pages were turned by {walk.turns.describe()})"
    )
    hint = f"`scrape probe {walk.task.url}` shows how its pages turn"
    return _ended(walk, WalkEnd.FAILED, CrawlError(walk.task.name, page.url, reason, hint))


def _listed(
    walk: Walk, page: Listing, stored: Mapping[str, KnownPost], allowed: Callable[[str], bool]
) -> tuple[Walk, Step]:
    """A list page's rows, now that what the store knows of them is known."""
    entries = page.entries
    fresh = [e for e in entries if e.key not in walk.seen]
    keys = {e.key: e.key for e in entries}
    if any(e.path for e in entries):
        walk, stored, keys = _identify(walk, entries, stored)
    if walk.task.resumed:
        walk = _note_above(walk, entries, keys, stored)
    settled = {key for key, post in stored.items() if post.settled}
    caught_up = all(
        keys[e.key] in settled or (e.notice and keys[e.key] in walk.seen) for e in entries
    )
    seen, wanted = set(walk.seen), set()
    for entry in fresh:  # stored, settled and unchanged: nothing more to read or do
        key = keys[entry.key]
        seen |= {key, walk.aliases.get(key, key)}
        if not (key in settled and stored[key].same_title(entry.title)):
            wanted.add(key)
    built = {keys[e.key]: e.built for e in fresh if e.built and keys[e.key] in wanted}
    walk = walk._replace(seen=frozenset(seen), built={**walk.built, **built})
    chosen = {listed: key for listed, key in keys.items() if key in wanted}
    rows = page.read(chosen) if wanted else ()
    walk, kept, fetch = _emit(walk, rows, stored, allowed)
    all_new = not any(keys[e.key] in stored for e in entries if not e.notice)  # notices stay
    walk, pages = _next_page(walk, page, caught_up, all_new, allowed)
    return walk, Step(kept, fetch, pages, walk.end)


def _identify(
    walk: Walk, entries: Sequence[Entry], stored: Mapping[str, KnownPost]
) -> tuple[Walk, dict[str, KnownPost], dict[str, str]]:
    """Rows linked by a path alone (a title slug): the post once listed under that path with
    that title, by its own key; else unknown until its page says its id — an edited title,
    a slug another post had, a post keyed by its path before its page was ever read. A post
    page on another host is not read: there the path stays the key. Returns the walk, the
    stored posts by the keys rows are kept under, and each listed key's key."""
    known, keys = dict(stored), {e.key: e.key for e in entries}
    aliases, unknown = dict(walk.aliases), set(walk.unknown)
    paths = [e for e in entries if e.path]
    claimed = Counter(k for e in paths if (k := getattr(known.get(e.key), "key", None)))
    below = _newest_below(entries, known)
    for i, entry in enumerate(entries):
        if not entry.path:
            continue
        path, post = entry.key, known.get(entry.key)
        own = _own_key(post, entry.title, below[i], claimed) if post is not None else None
        if post is not None and own is not None:
            keys[path], aliases[own], known[own] = own, path, post
            continue
        if walk.task.identify and walk.task.fetches(entry.url):
            unknown.add(path)
            known.pop(path, None)
    return walk._replace(aliases=aliases, unknown=frozenset(unknown)), known, keys


def _own_key(
    post: KnownPost, title: str, below: tuple[float, int], claimed: Counter[str]
) -> str | None:
    """The key of the stored post a path was once listed under, when the row is that post: the
    same title, no other row claiming it, and no later stored post listed below it."""
    own = post.key
    if own and post.same_title(title) and claimed[own] == 1 and below <= post.order:
        return own
    return None


def _newest_below(
    entries: Sequence[Entry], known: Mapping[str, KnownPost]
) -> list[tuple[float, int]]:
    """For each row, the latest stored post listed below it (by when it was first stored): a
    post the board lists above a post stored after it was written again, or is another."""
    newest: tuple[float, int] = (0.0, 0)
    found: list[tuple[float, int]] = []
    for entry in reversed(entries):
        found.append(newest)
        post = known.get(entry.key)
        if post is not None and not entry.notice:
            newest = max(newest, post.order)
    return found[::-1]


def _note_above(
    walk: Walk, entries: Sequence[Entry], keys: Mapping[str, str], stored: Mapping[str, KnownPost]
) -> Walk:
    """While a resumed first walk has not met a post the failed one stored, its posts are
    new (sent, so their pages are read); below that, they are the rest of the baseline."""
    met, above = walk.met, set(walk.above)
    for entry in entries:
        key = keys[entry.key]
        met = met or (key in stored and not entry.notice)
        if met:
            break
        above.add(key)
    return walk._replace(met=met, above=frozenset(above))


def _emit(
    walk: Walk, rows: Sequence[Row], stored: Mapping[str, KnownPost], allowed: Callable[[str], bool]
) -> tuple[Walk, tuple[Row, ...], tuple[Fetch, ...]]:
    """Keep the rows; ask for a post page when its details are wanted, or when only the page
    can say which post it is (or whether an address we built leads to it)."""
    kept, fetch = [], []
    for listed in rows:
        key = listed["key"]
        row = Row(**listed)
        if key in walk.aliases:
            row["alias"] = walk.aliases[key]
        kept.append(row)
        identify = key in walk.unknown
        details = key not in stored and _wants_details(walk, row, allowed)
        if details and not walk.task.fetches(row["url"]):  # another site's page: never read
            walk = walk._replace(elsewhere=walk.elsewhere | {origin_of(row["url"]) or row["url"]})
            details = False
        check = (
            key in walk.built
            and not walk.checking
            and walk.task.identify
            and walk.task.fetches(row["url"])
        )
        if not (identify or details or check):
            continue
        walk = walk._replace(
            checking=walk.checking or key in walk.built, fetched=walk.fetched + details
        )
        fetch.append(Fetch(key, row["url"], identify))
    return walk, tuple(kept), tuple(fetch)


def _wants_details(walk: Walk, row: Row, allowed: Callable[[str], bool]) -> bool:
    """Are the post's details wanted? (A page on another site is wanted too, as far as this
    goes: `_emit` notes it as not read, which is how the board's warning comes to name it.)"""
    task, url = walk.task, row["url"]
    news = row["key"] in walk.above
    if task.baseline and not news and (row["notice"] or walk.fetched >= task.backfill):
        return False  # a baseline sends only the newest `backfill` posts, never notices
    if not task.details:
        return False
    return url != task.url and (not task.fetches(url) or allowed(url))


def _next_page(
    walk: Walk, page: Listing, caught_up: bool, all_new: bool, allowed: Callable[[str], bool]
) -> tuple[Walk, tuple[tuple[int, str], ...]]:
    """Ask for the next page where the page's pager says it is — and, while every post on this
    one was new (a baseline, a long gap), for up to PREFETCH pages ahead, so the walk waits on
    one round trip, not each. A pager that shows no page past this one ends the walk."""
    number, task = walk.pages, walk.task
    if caught_up:
        return walk._replace(end=WalkEnd.CAUGHT_UP), ()
    if number >= task.max_pages:
        return walk._replace(end=WalkEnd.MAX_PAGES), ()
    pager = page.pager()
    walk = walk._replace(paging=walk.turns.after(pager))
    if pager is not None and not pager.more:
        return walk._replace(end=WalkEnd.END), ()
    last = min(number + (PREFETCH if all_new else 1), task.max_pages)
    pages: list[tuple[int, str]] = []
    for ahead in range(walk.requested + 1, last + 1):
        url = walk.turns.url(ahead)
        if ahead > number + 1 and not walk.turns.knows(ahead):
            break  # only a next link says where the board goes on: one page at a time
        if not task.fetches(url):
            if ahead == number + 1:
                return _off_site(walk, url)
            break
        if not allowed(safe_url_string(url)):
            break  # robots.txt closes the rest of the board, from that page on (as requested)
        pages.append((ahead, url))
    walk = walk._replace(requested=pages[-1][0] if pages else walk.requested)
    if walk.requested > number:
        return walk, tuple(pages)
    return walk._replace(end=WalkEnd.END), ()


def _off_site(walk: Walk, url: str) -> tuple[Walk, tuple[tuple[int, str], ...]]:
    """The pager leads off the board's own site: not followed, and the walk cannot go on."""
    where = shown(origin_of(url)) if origin_of(url) else url
    reason = f"the pager leads to {url}, off the board's own site; it was not requested"
    hint = f"if {where} is the board's own, list it in the board's `also_fetch`"
    error = CrawlError(walk.task.name, url, reason, hint)
    return walk._replace(end=WalkEnd.FAILED, error=error), ()
