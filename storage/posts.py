"""Post identity: what is stored, what is new, and what a walk may treat as known."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from records.post import POST_FIELDS, ReadPost, Retitled, StoredPost
from records.walk import IngestResult
from storage import dialect, ledger
from storage.db import Store
from storage.models import Alias, Board, Post, Revision, post_dict

CHUNK = 500
T = TypeVar("T")


class Known(NamedTuple):  # a tuple: a crawl reads thousands of them ahead, cheaply
    """A stored post as a walk needs to know it: settled (a finished walk saw it), its title, and
    — when it was found under another link it was once listed under — its own key."""

    settled: bool
    title: str
    key: str | None = None
    # when it was first stored among the board's posts, a later post higher (within one walk,
    # stored in the board's order — newest first — the one listed higher is the later)
    order: tuple[float, int] = (0.0, 0)
    url: str = ""  # its address ("" where read ahead: asked of the store when a walk needs it)

    def same_title(self, title: str) -> bool:
        """Is `title`, as a list shows it now, the stored title? A cut of it is (see `retitled`)."""
        return not retitled(self.title, title)


_CUT = ("…", "...")


def retitled(stored: str, listed: str) -> bool:
    """Has a post's title changed? A list title the board cut short (`…`, `...`) that is a
    prefix of the stored one is the same title; so is the whole title of one stored cut (its
    page read at last: a completion, not a change), and one that differs only by a marker word
    at its end (a board that writes "N" into the title's own text, and drops it a day later)."""
    if not listed or listed == stored:
        return False
    if listed.endswith(_CUT):
        return not stored.startswith(_uncut(listed))
    if stored.endswith(_CUT) and listed.startswith(_uncut(stored)):
        return False
    return unmarked(listed) != unmarked(stored)


def _uncut(title: str) -> str:
    return title.rstrip("….").rstrip()


def completes(stored: str, title: str) -> bool:
    """Is `title` the whole of a title stored cut short (`…`)?"""
    return stored.endswith(_CUT) and not title.endswith(_CUT) and title.startswith(_uncut(stored))


_MARKER_WORDS = re.compile(r"(?:\s+(?:new|n|새글|hot))+$", re.IGNORECASE)


def unmarked(title: str) -> str:
    """A title without marker words at its end (what a marker's coming or going leaves)."""
    return _MARKER_WORDS.sub("", title)


def sync_boards(session: Session, titles: Mapping[str, str]) -> None:
    """Every configured board stored once, however many runs start together, with its title."""
    from storage.db import insert_missing

    stored = set(session.scalars(select(Board.name)))
    new = [(name, title) for name, title in sorted(titles.items()) if name not in stored]
    rows = [{"name": n, "title": t, "fail_streak": 0, "alerting": False} for n, t in new]
    insert_missing(session, Board, rows)
    for board in session.scalars(select(Board).where(Board.name.in_(list(titles)))):
        if board.title != titles[board.name]:
            board.title = titles[board.name]


def baselined(session: Session, boards: Sequence[str]) -> set[str]:
    """Which of `boards` have finished their first (baseline) walk."""
    query = select(Board.name).where(Board.name.in_(boards), Board.baselined_at.is_not(None))
    return set(session.scalars(query))


def begun(session: Session, boards: Sequence[str]) -> set[str]:
    """Which of `boards` have posts from a first walk that failed part-way (not baselined)."""
    query = (
        select(Board.name)
        .where(Board.name.in_(boards), Board.baselined_at.is_(None))
        .where(select(Post.id).where(Post.board_id == Board.id).exists())
    )
    return set(session.scalars(query))


def _order(first_seen: datetime, post_id: int) -> tuple[float, int]:
    seen = first_seen if first_seen.tzinfo else first_seen.replace(tzinfo=UTC)
    return (seen.timestamp(), -post_id)


class Lookups:
    """What a walk knows of the posts on a list page, read ahead of the crawl: `preload` reads,
    in one statement for all the crawl's boards (off the reactor, before it starts), each board's
    newest `HEAD` posts, its notices and their aliases. A quiet list page finds all its posts
    there (`known`) and costs no round trip; a page with a post not among them — new, or older
    than the head — asks the store (`__call__`), off the reactor, for that page's keys."""

    HEAD = 40  # newest posts read ahead per board (as first seen): two list pages' worth

    _KEYS = (
        select(Post.key, Post.settled, Post.title, Post.first_seen, Post.id, Post.url)
        .join(Board, Post.board_id == Board.id)
        .where(Board.name == bindparam("board"), Post.key.in_(bindparam("keys", expanding=True)))
    )
    _ALIASES = (
        select(Alias.alias, Post.settled, Post.title, Post.key, Post.first_seen, Post.id)
        .join(Post, Alias.post_id == Post.id)
        .join(Board, Alias.board_id == Board.id)
        .where(Board.name == bindparam("board"), Alias.alias.in_(bindparam("keys", expanding=True)))
    )

    def __init__(self, store: Store) -> None:
        self._store = store
        self._head: dict[str, dict[str, Known]] = {}  # board -> key (or alias) -> post
        self._whole: set[str] = set()  # boards whose every post is in `_head`
        self.asked = 0  # lookups that went to the store (a quiet crawl: none)

    def preload(self, boards: Sequence[str], session: Session) -> None:
        """Read ahead the newest posts, notices and aliases of `boards` (call off the reactor):
        the newest posts as the database reads them fastest (`dialect.newest_posts`: one
        statement for all boards on PostgreSQL, one a board in-process on SQLite); then one for
        the notices and one for the aliases."""
        conn = session.connection()
        query = select(Board.name, Board.id).where(Board.name.in_(boards))
        names = {bid: name for name, bid in conn.execute(query).all()}
        if not names:
            return
        ids = list(names)
        newest = dialect.newest_posts(conn, ids, self.HEAD + 1)
        notices = conn.execute(_NOTICES.bindparams(ids=ids)).all()
        counts = Counter(row[0] for row in newest)
        self._whole |= {names[bid] for bid in ids if counts[bid] <= self.HEAD}
        posts: dict[int, tuple[str, Known]] = {}
        stamps: dict[object, float] = {}  # one walk's posts share their first_seen
        for bid, key, done, title, seen, pid in (*newest, *notices):
            if pid not in posts:
                board = names[bid]
                stamp = stamps.get(seen)
                if stamp is None:
                    stamp = stamps[seen] = _stamp(seen)
                posts[pid] = (board, Known(bool(done), title, None, (stamp, -pid)))
                self._head.setdefault(board, {})[key] = posts[pid][1]
        for name in names.values():
            self._head.setdefault(name, {})
        for chunk in _chunks(list(posts), 5000):
            for alias, pid, key in conn.execute(_ALIASES_OF.bindparams(ids=list(chunk))).all():
                board, post = posts[pid]
                self._head[board].setdefault(alias, post._replace(key=key))

    def known(
        self, board: str, keys: Sequence[str], aliases: Sequence[str] = ()
    ) -> dict[str, Known] | None:
        """The stored posts among `keys` and `aliases` from what was read ahead; None when that
        cannot tell (a key not among a board's newest posts, which may be older ones)."""
        head = self._head.get(board)
        if head is None:
            return None
        whole = board in self._whole
        found: dict[str, Known] = {}
        for key in keys:
            post = head.get(key)
            if post is not None and post.key is None:
                found[key] = post
            elif not whole:
                return None
        for alias in aliases:
            post = head.get(alias)
            if post is not None and post.key is not None:
                found[alias] = post
            elif not whole:
                return None
        return found

    def __call__(
        self, board: str, keys: Sequence[str], aliases: Sequence[str] = ()
    ) -> dict[str, Known]:
        """The stored posts among `keys`, and among `aliases` (each under the alias, with the
        post's own key), asked of the store: one statement (a second only for aliases)."""
        if not keys:
            return {}
        self.asked += 1
        with self._store.reader.connect() as conn:
            found = conn.execute(self._KEYS, {"board": board, "keys": list(keys)})
            known = {
                key: Known(done, title, None, _order(seen, pid), url)
                for key, done, title, seen, pid, url in found
            }
            if aliases:
                listed = conn.execute(self._ALIASES, {"board": board, "keys": list(aliases)})
                known |= {
                    alias: Known(done, title, key, _order(seen, pid))
                    for alias, done, title, key, seen, pid in listed
                }
            conn.rollback()
        return known

    def close(self) -> None:
        self._head.clear()
        self._whole.clear()


def ingest(
    session: Session,
    board: str,
    rows: Sequence[ReadPost],
    *,
    complete: bool,
    backfill: int,
    now: datetime,
    listed: Collection[str] = (),
    links_gone: bool = False,
) -> IngestResult:
    """Store one walk's rows (in the board's order) and queue what is new for subscribers.

    The first walk that completes is the baseline: it queues only the newest `backfill` posts.
    A first walk that failed part-way is the baseline for what it stored: a later walk queues the
    posts above those (newer), and stores the ones below them — the part the failed walk never
    reached — silently, as the baseline it would have stored. A row listed under a link a stored
    post had is that post; rows that are stored posts under new keys (see `moved`) are too.
    `listed`: every key the walk saw on its pages, the rows it did not hand over included.
    `links_gone`: the old links of the stored posts these rows look like were shown gone (see
    `moved_sample`); only then are such rows taken for those posts under new links.
    """
    record = session.scalars(select(Board).where(Board.name == board)).one()
    before = count(session, record.id)
    baseline = record.baselined_at is None
    resumed = baseline and before > 0
    stored = _existing(session, record.id, [row["key"] for row in rows])
    _follow(session, record.id, rows, stored)
    moved = None
    if links_gone and not baseline:
        moved = _moved(session, record.id, rows, stored, listed)
    aliases = {} if moved is None else _adopt(moved, rows, stored)
    known, past = set(stored), False  # past: below a post stored before this walk
    fresh: list[Post] = []
    quiet: list[Post] = []  # the rest of a failed first walk; stored posts under new keys
    changed: list[Retitled] = []  # stored posts whose titles changed
    for row in rows:
        past = past or (row["key"] in known and not row["notice"])
        post = stored.get(row["key"])
        if post is None:
            post = stored[row["key"]] = _insert(session, record.id, row, settled=complete, now=now)
            silent = (resumed and past) or (moved is not None and row["key"] in moved.unsure)
            (quiet if silent else fresh).append(post)
        else:
            _refresh(session, post, row, changed, record, settled=complete, now=now)
    session.flush()
    _keep_aliases(session, record.id, aliases | _listed(rows, stored))
    new = [post_dict(post, record) for post in fresh]
    queued = _route(
        session,
        record,
        new,
        changed,
        baseline=baseline and not resumed,
        backfill=backfill,
        now=now,
    )
    if complete and baseline:
        record.baselined_at = now
    return IngestResult(
        new=(*(post["key"] for post in new), *(post.key for post in quiet)),
        retitled=tuple(changed),
        queued=queued,
        baseline=baseline,
        had_posts=bool(rows) or before > 0,
        quiet=len(quiet),
        moved=len(moved.posts) if moved is not None else 0,
        unsure=len(moved.unsure) if moved is not None else 0,
    )


def _follow(session: Session, bid: int, rows: Sequence[ReadPost], stored: dict[str, Post]) -> None:
    """A post stored under its link alone (before its page was read for an id) is the row its
    page now names: it takes the row's key. A link another post had, whose page names a post
    of its own (a slug freed by an edit, or by a deletion, and given to a new post), is not
    the other post: the page's id decides."""
    unkeyed = [alias for r in rows if (alias := r.get("alias")) and r["key"] not in stored]
    aliased = _aliased(session, bid, unkeyed) if unkeyed else {}
    for row in rows:
        alias = row.get("alias") or ""
        post = aliased.get(alias)
        if post is not None and post.key == alias and row["key"] not in stored:
            post.key = row["key"]
            stored[row["key"]] = post


MOVED_AT_LEAST = 5  # rows under new keys that carry stored posts' titles and dates …
MOVED_SHARE = 0.5  # … and at least this share of the walk's unknown rows: links re-keyed


@dataclass
class Moved:
    """A walk whose unknown rows are mostly stored posts under new keys (a site setting, a
    migration changed every link): not news. `posts`: new key -> the one stored post it
    certainly is; `unsure`: new keys that match several stored posts (or share one)."""

    posts: dict[str, Post]
    unsure: set[str]


def _moved(
    session: Session,
    bid: int,
    rows: Sequence[ReadPost],
    stored: Mapping[str, Post],
    listed: Collection[str] = (),
) -> Moved | None:
    """Is this walk a board re-keyed rather than news? Only when the walk listed (nearly) no
    post under a key it knew — a board whose links all changed — and its unknown rows match, by
    title and date both, stored posts it did not list under their own keys (a post still listed
    under its key is itself: a new post with its title is a post of its own). A pinned notice
    the list shows without a date is matched among the stored notices by its title."""
    unknown = [row for row in rows if row["key"] not in stored and (row["date"] or row["notice"])]
    if len(unknown) < MOVED_AT_LEAST:
        return None
    new_keys = {row["key"] for row in rows if row["key"] not in stored}
    new_keys |= {alias for row in rows if row["key"] in new_keys and (alias := row.get("alias"))}
    if len(set(listed) - new_keys) > (1 - MOVED_SHARE) * len(new_keys):
        return None  # posts still listed under the keys they had: the links did not change
    walked = {row["key"] for row in rows} | set(listed)
    candidates = [p for p in _alike(session, bid, unknown) if p.key not in walked]
    matches = {row["key"]: [p for p in candidates if _same_post(p, row)] for row in unknown}
    matches = {key: found for key, found in matches.items() if found}
    if len(matches) < max(MOVED_AT_LEAST, MOVED_SHARE * len(unknown)):
        return None
    claims = Counter(post.id for found in matches.values() for post in found)
    certain = {
        key: found[0]
        for key, found in matches.items()
        if len(found) == 1 and claims[found[0].id] == 1
    }
    return Moved(certain, set(matches) - set(certain))


class OldLink(NamedTuple):
    """A stored post a walk's row looks like, at the address it was stored under."""

    key: str
    title: str
    url: str


def moved_sample(
    session: Session, board: str, rows: Sequence[ReadPost], listed: Collection[str], n: int = 2
) -> list[OldLink]:
    """Would this walk be taken for a board whose links changed (see `_moved`)? Then a few of
    the stored posts its rows look like, to ask their old addresses first: a link changed only
    where the old one no longer answers with its post. Empty: no such question (read only)."""
    record = session.scalars(select(Board).where(Board.name == board)).one_or_none()
    if record is None or record.baselined_at is None:
        return []
    stored = _existing(session, record.id, [row["key"] for row in rows])
    moved = _moved(session, record.id, rows, stored, listed)
    found = [] if moved is None else list(moved.posts.values())
    return [OldLink(post.key, post.title, post.url) for post in found[:n]]


def _alike(session: Session, bid: int, rows: Sequence[ReadPost]) -> list[Post]:
    """Stored posts with the dates of these rows (and the stored notices, for a notice row the
    list shows without a date)."""
    days = sorted({row["date"] for row in rows if row["date"]})
    found: dict[int, Post] = {}
    if any(row["notice"] and not row["date"] for row in rows):
        query = select(Post).where(Post.board_id == bid, Post.notice)
        found.update((post.id, post) for post in session.scalars(query))
    for chunk in _chunks(days):
        query = select(Post).where(Post.board_id == bid, Post.date.in_(chunk))
        found.update((post.id, post) for post in session.scalars(query))
    return list(found.values())


def _same_post(post: Post, row: ReadPost) -> bool:
    same_day = post.date == row["date"] or (row["date"] is None and row["notice"] and post.notice)
    return same_day and not retitled(post.title, row["title"])


def _adopt(moved: Moved, rows: Sequence[ReadPost], stored: dict[str, Post]) -> dict[str, Post]:
    """The stored posts take their new keys and links; their old keys become aliases."""
    aliases = {}
    urls = {row["key"]: row["url"] for row in rows}
    for key, post in moved.posts.items():
        aliases[post.key] = post
        post.key, post.url = key, urls[key]
        stored[key] = post
    return aliases


def _listed(rows: Sequence[ReadPost], stored: Mapping[str, Post]) -> dict[str, Post]:
    return {alias: stored[r["key"]] for r in rows if (alias := r.get("alias"))}


def _aliased(session: Session, bid: int, aliases: list[str]) -> dict[str, Post]:
    """The stored posts once listed under these links (or keyed by them, before a post's own
    page was read for its id)."""
    found: dict[str, Post] = {}
    for chunk in _chunks(aliases):
        keyed = select(Post).where(Post.board_id == bid, Post.key.in_(chunk))
        found.update((post.key, post) for post in session.scalars(keyed))
        listed = (
            select(Alias.alias, Post)
            .join(Post, Alias.post_id == Post.id)
            .where(Alias.board_id == bid, Alias.alias.in_(chunk))
        )
        found.update((alias, post) for alias, post in session.execute(listed))
    return found


def _keep_aliases(session: Session, bid: int, aliases: dict[str, Post]) -> None:
    """Record which post each alias now leads to (a slug an edit freed may be reused)."""
    if not aliases:
        return
    query = select(Alias).where(Alias.board_id == bid, Alias.alias.in_(list(aliases)))
    for existing in session.scalars(query):
        existing.post_id = aliases.pop(existing.alias).id
    session.add_all(Alias(board_id=bid, post_id=p.id, alias=a) for a, p in aliases.items())


def _existing(session: Session, bid: int, keys: list[str]) -> dict[str, Post]:
    found: dict[str, Post] = {}
    for chunk in _chunks(keys):
        query = select(Post).where(Post.board_id == bid, Post.key.in_(chunk))
        found.update((post.key, post) for post in session.scalars(query))
    return found


def _insert(session: Session, bid: int, row: ReadPost, *, settled: bool, now: datetime) -> Post:
    values = {name: row.get(name) for name in POST_FIELDS}  # every field a post has: records.post
    post = Post(board_id=bid, first_seen=now, settled=settled, **values)
    session.add(post)
    return post


def _refresh(
    session: Session,
    post: Post,
    row: ReadPost,
    changed: list[Retitled],
    board: Board,
    *,
    settled: bool,
    now: datetime,
) -> None:
    """Settle a known post and record a title change (view counts are not changes)."""
    post.settled = post.settled or settled
    title = row["title"]
    if row.get("alias") and row["url"] != post.url:
        post.url = row["url"]  # its link changed form (or its slug, with its title)
    if completes(post.title, title):
        post.title = title  # a title stored cut, read whole at last: no change, no update
    elif (
        title != post.title
        and unmarked(title) == unmarked(post.title)
        and not retitled(post.title, title)
    ):
        post.title = title  # a marker word came or went: the title as the board shows it now
    elif retitled(post.title, title):
        revision = Revision(post_id=post.id, old_title=post.title, new_title=title, seen_at=now)
        session.add(revision)
        post.title = title
        session.flush()
        changed.append(Retitled(**post_dict(post, board), revision=revision.id))


def _route(
    session: Session,
    board: Board,
    fresh: list[StoredPost],
    changed: Sequence[Retitled],
    *,
    baseline: bool,
    backfill: int,
    now: datetime,
) -> int:
    """Queue the fresh posts (a baseline's newest `backfill` only) and the title changes."""
    if baseline:
        fresh = [post for post in fresh if not post["notice"]][:backfill]
    queued = ledger.queue_new(session, board.name, fresh, now)
    return queued + ledger.queue_updates(session, board.name, changed, now)


def listing(session: Session, board: str | None, limit: int | None) -> list[StoredPost]:
    """Stored posts, newest first: latest first_seen first, the board's own order within a run."""
    query = select(Post, Board).join(Board).order_by(Post.first_seen.desc(), Post.id.asc())
    if board:
        query = query.where(Board.name == board)
    if limit:
        query = query.limit(limit)
    return [post_dict(post, record) for post, record in session.execute(query)]


def count(session: Session, bid: int) -> int:
    return session.scalar(select(func.count()).where(Post.board_id == bid)) or 0


_NOTICES = text(
    f"SELECT {dialect.HEAD_COLUMNS} FROM posts WHERE board_id IN :ids AND notice"
).bindparams(bindparam("ids", expanding=True))
_ALIASES_OF = text(
    "SELECT aliases.alias, aliases.post_id, posts.key FROM aliases "
    "JOIN posts ON aliases.post_id = posts.id WHERE aliases.post_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _stamp(value: datetime | str) -> float:
    """A stored `first_seen` as read without the ORM (SQLite: text; PostgreSQL: naive UTC)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
