"""Post identity: what is stored, what is new, and what a walk may treat as known."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage import ledger
from storage.db import Store
from storage.models import Board, Post, Revision, post_dict
from storage.records import DATA_FIELDS, PostData, Retitled, StoredPost

CHUNK = 500


@dataclass
class IngestResult:
    """What storing one walk did: posts first seen, posts retitled, ledger entries queued."""

    new: list[StoredPost] = field(default_factory=list)
    retitled: list[Retitled] = field(default_factory=list)
    queued: int = 0
    baseline: bool = False
    had_posts: bool = False  # the board had stored posts before this walk


@dataclass(frozen=True)
class Known:
    """A stored post as a walk needs to know it: settled (a finished walk saw it) and its title."""

    settled: bool
    title: str

    def same_title(self, title: str) -> bool:
        """Is `title`, as a list shows it now, the stored title? A cut of it is (see `retitled`)."""
        return not retitled(self.title, title)


def retitled(stored: str, listed: str) -> bool:
    """Has a post's title changed? A list title the board cut short (`…`, `...`) that is a
    prefix of the stored one is the same title."""
    if not listed or listed == stored:
        return False
    if listed.endswith(("…", "...")):
        return not stored.startswith(listed.rstrip("….").rstrip())
    return True


def sync_boards(session: Session, titles: Mapping[str, str]) -> None:
    existing = {b.name: b for b in session.scalars(select(Board))}
    for name, title in titles.items():
        board = existing.get(name)
        if board is None:
            session.add(Board(name=name, title=title, fail_streak=0, alerting=False))
        elif board.title != title:
            board.title = title


def board_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Board.id).where(Board.name == name))


def baselined(session: Session, boards: Sequence[str]) -> set[str]:
    """Which of `boards` have finished their first (baseline) walk."""
    query = select(Board.name).where(Board.name.in_(boards), Board.baselined_at.is_not(None))
    return set(session.scalars(query))


class Lookups:
    """`lookup` for a whole crawl on one held connection, one statement per list page: what a
    quiet run does for every board, so it costs one indexed query and nothing more."""

    _QUERY = (
        select(Post.key, Post.settled, Post.title)
        .join(Board, Post.board_id == Board.id)
        .where(Board.name == bindparam("board"), Post.key.in_(bindparam("keys", expanding=True)))
    )

    def __init__(self, store: Store) -> None:
        self._conn: Connection | None = None
        self._store = store

    def __call__(self, board: str, keys: Sequence[str]) -> dict[str, Known]:
        if not keys:
            return {}
        if self._conn is None:
            self._conn = self._store.reader.connect()
        try:
            rows = self._conn.execute(self._QUERY, {"board": board, "keys": list(keys)}).all()
        finally:
            self._conn.rollback()  # no read transaction outlives the page
        return {key: Known(settled, title) for key, settled, title in rows}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def lookup(session: Session, board: str, keys: Sequence[str]) -> dict[str, Known]:
    """Which of `keys` are stored for `board`, each with its `settled` flag and its title."""
    if not keys:
        return {}
    query = (
        select(Post.key, Post.settled, Post.title)
        .join(Board, Post.board_id == Board.id)
        .where(Board.name == board, Post.key.in_(keys))
    )
    return {key: Known(settled, title) for key, settled, title in session.execute(query)}


def ingest(
    session: Session,
    board: str,
    rows: Sequence[PostData],
    *,
    complete: bool,
    backfill: int,
    now: datetime,
) -> IngestResult:
    """Store one walk's rows (in the board's order) and queue what is new for subscribers.

    The first walk that completes is the baseline: it queues only the newest `backfill` posts.
    """
    record = session.scalars(select(Board).where(Board.name == board)).one()
    result = IngestResult(baseline=record.baselined_at is None)
    result.had_posts = bool(rows) or count(session, record.id) > 0
    stored = _existing(session, record.id, [row["key"] for row in rows])
    fresh: list[Post] = []
    for row in rows:
        post = stored.get(row["key"])
        if post is None:
            post = stored[row["key"]] = _insert(session, record.id, row, settled=complete, now=now)
            fresh.append(post)
        else:
            _refresh(session, post, row, result, record, settled=complete, now=now)
    session.flush()
    result.new = [post_dict(post, record) for post in fresh]
    result.queued = _route(session, record, result, backfill=backfill, now=now)
    if complete and result.baseline:
        record.baselined_at = now
    return result


def _existing(session: Session, bid: int, keys: list[str]) -> dict[str, Post]:
    found: dict[str, Post] = {}
    for chunk in _chunks(keys):
        query = select(Post).where(Post.board_id == bid, Post.key.in_(chunk))
        found.update((post.key, post) for post in session.scalars(query))
    return found


def _insert(session: Session, bid: int, row: PostData, *, settled: bool, now: datetime) -> Post:
    values = {name: row.get(name) for name in DATA_FIELDS}
    post = Post(board_id=bid, key=row["key"], first_seen=now, settled=settled, **values)
    session.add(post)
    return post


def _refresh(
    session: Session,
    post: Post,
    row: PostData,
    result: IngestResult,
    board: Board,
    *,
    settled: bool,
    now: datetime,
) -> None:
    """Settle a known post and record a title change (view counts are not changes)."""
    post.settled = post.settled or settled
    title = row["title"]
    if retitled(post.title, title):
        revision = Revision(post_id=post.id, old_title=post.title, new_title=title, seen_at=now)
        session.add(revision)
        post.title = title
        session.flush()
        result.retitled.append(Retitled(**post_dict(post, board), revision=revision.id))


def _route(
    session: Session, board: Board, result: IngestResult, *, backfill: int, now: datetime
) -> int:
    fresh = result.new
    if result.baseline:
        fresh = [post for post in fresh if not post["notice"]][:backfill]
    queued = ledger.queue_new(session, board.name, fresh, now)
    return queued + ledger.queue_updates(session, board.name, result.retitled, now)


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


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
