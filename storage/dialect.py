"""What SQLite and PostgreSQL do differently, in one place: every other storage module asks here.

SQLite is one file in this process that a writer locks whole; PostgreSQL is a server that locks
rows. They differ in how a connection is set up and a transaction begins, how writers keep out
of each other's way, how a row that may be stored already is inserted, the clock, elapsed time,
and how the newest posts of many boards are read ahead. (The tables' partial indexes say theirs
in `storage.models`, the SQLAlchemy way; the migrations say theirs in their own files.)
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, event, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

Bind = Session | Connection | Engine
Rows = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def _name(bind: Bind) -> str:
    return (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name


# -- engines: how connections are set up and transactions begin


BUSY_TIMEOUT = 30.0  # seconds a connection waits for another's write before "database is locked"


IDLE_PING = 10.0  # seconds a server's pooled connection may idle and be used again unpinged


def engine_options(url: str) -> dict[str, Any]:
    """`create_engine`'s options: SQLite waits for the file's lock. (A server's pooled
    connections are pinged when they have idled: `prepare`.)"""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {}


def prepare(engine: Engine, *, immediate: bool) -> None:
    """Set up SQLite's connections (pragmas, WAL) and how its transactions begin: IMMEDIATE in
    turns for a writer's engine, deferred for a reader's. A server's: `_ping_after_idle`."""
    if engine.dialect.name != "sqlite":
        _ping_after_idle(engine)
        return
    event.listen(engine, "connect", _sqlite_pragmas)
    if immediate:
        turn = _WriteTurn()
        event.listen(engine, "begin", turn.begin)
        event.listen(engine, "commit", turn.end)
        event.listen(engine, "rollback", turn.end)
    else:
        event.listen(engine, "begin", _sqlite_deferred)


def _ping_after_idle(engine: Engine) -> None:
    """A pooled connection that idled over IDLE_PING seconds is pinged as it is taken, and
    replaced when the server dropped it meanwhile (a restart, an idle timeout, a firewall);
    one used a moment ago is not. `pool_pre_ping` pinged before every transaction but the
    first: 6 of a quiet 1-board `once`'s 56 round trips to a database away (BENCHMARKS.md).
    The price: a server restarted within those seconds fails the transaction that follows
    it, as one restarted during a transaction always did."""

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def taken(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool drops this connection and takes a new one
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", taken)


def reads_apart(engine: Engine) -> bool:
    """Do reads need an engine of their own? On SQLite, yes: the writers' engine begins
    IMMEDIATE (takes the file's write lock); a reader's begins deferred and takes none."""
    return engine.dialect.name == "sqlite"


def local_folder(url: str) -> Path | None:
    """The folder a SQLite database file is made in (None: the database is a server)."""
    if not url.startswith("sqlite"):
        return None
    path = url.partition(":///")[2]
    return Path(path).parent if path and not path.startswith(":memory:") else Path(".")


class _WriteTurn:
    """Every SQLite write transaction takes the write lock up front (BEGIN IMMEDIATE), and the
    threads of one process take turns for it in a queue of their own first.

    In WAL mode a transaction that read first cannot write once another process has committed
    since ("database is locked", whatever the busy timeout): with several processes that would
    fail writes that follow reads. Waiting for the lock up front makes them wait instead. Threads
    of this process (8 sending digests) would otherwise wait in SQLite's busy handler, which
    sleeps 1, 2, 5 … 100 ms between tries: a thread lock hands the turn over at once.
    """

    def __init__(self) -> None:
        # reentrant: a thread that nests two write transactions meets SQLite's own timeout, as
        # before, rather than waiting for itself for ever
        self.lock, self.held = threading.RLock(), threading.local()

    def begin(self, conn: Connection) -> None:
        self.lock.acquire()
        self.held.ids = {*getattr(self.held, "ids", ()), id(conn)}
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Connection) -> None:
        ids: set[int] = getattr(self.held, "ids", set())
        if id(conn) in ids:
            ids.discard(id(conn))
            self.lock.release()


def _sqlite_deferred(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # the "begin" event above issues BEGIN, not pysqlite
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _wal(cursor: Any) -> None:
    """Put the file in WAL mode, waiting out other connections that open it at the same moment.

    WAL is kept in the file, so after the first connection this is one read. Switching needs the
    file to itself, and SQLite answers "database is locked" at once, without its busy handler, when
    two connections that both read the header want it (each would wait on the other): workers
    opening a new database together meet that, so the switch is tried again until BUSY_TIMEOUT.
    """
    deadline, pause = time.monotonic() + BUSY_TIMEOUT, 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


# -- locking: how writers keep out of each other's way


def row_locks(bind: Bind) -> bool:
    """Can a transaction lock one row while others skip it (`FOR UPDATE SKIP LOCKED`)?
    PostgreSQL: yes. SQLite: no — a writer locks the whole file, so writers simply take turns."""
    return _name(bind) != "sqlite"


def advisory_lock(bind: Session | Connection, key: int, *, shared: bool = False) -> None:
    """Hold PostgreSQL's advisory lock `key` (shared, or exclusive) until the transaction ends.
    SQLite needs none: its writers take turns on the whole file."""
    if _name(bind) == "postgresql":
        kind = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        bind.execute(text(f"SELECT {kind}(:key)"), {"key": key})


def clock(session: Session) -> datetime:
    """The database's clock, in UTC (SQLite's answers as text)."""
    if _name(session) == "postgresql":
        query = "SELECT timezone('UTC', statement_timestamp())"
    else:
        query = "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"
    value = session.execute(text(query)).scalar()
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC)


# -- inserts of rows that may be stored already


def insert_or_skip(bind: Bind, model: type[Any], rows: Rows) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT DO NOTHING`: rows whose keys are stored — another run's, inserted at
    the same moment, included — are skipped rather than an error."""
    return _insert(bind, model).values(rows).on_conflict_do_nothing()


def insert_or_update(
    bind: Bind, model: type[Any], row: Mapping[str, Any], *, key: str, update: Mapping[str, Any]
) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT (key) DO UPDATE SET …`: the row inserted, or the stored one updated."""
    statement = _insert(bind, model).values(row)
    return statement.on_conflict_do_update(index_elements=[key], set_=dict(update))


def _insert(bind: Bind, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(model) if _name(bind) == "postgresql" else sqlite.insert(model)


# -- reading


def seconds_between(bind: Bind, start: Any, end: Any) -> ColumnElement[Any]:
    """SQL for the seconds from timestamp `start` to `end` (SQLite counts them in days)."""
    if _name(bind) == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


# A read-ahead row: what `newest_posts` returns, and `storage.posts` reads the notices as
HEAD_COLUMNS = "board_id, key, settled, title, first_seen, id"


def newest_posts(conn: Connection, ids: Sequence[int], head: int) -> list[Sequence[Any]]:
    """Each board's newest `head` posts: the latest walk's first, in the board's order.

    PostgreSQL: one statement for all the boards (a lateral join), one round trip. SQLite
    (in-process, no round trips): one statement a board through the driver's own cursor, which
    costs half of SQLAlchemy's execution — 300 boards of 41 rows: 23 ms, against 49 ms through
    `text()` and 40 ms through `exec_driver_sql` (medians of 60, 2 cores, 2026-12-06)."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(_NEWEST_ALL, {"ids": list(ids), "head": head}).all())
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    newest: list[Sequence[Any]] = []
    for bid in ids:
        newest += cursor.execute(_NEWEST_SQL, (bid, head)).fetchall()
    cursor.close()
    return newest


_NEWEST_SQL = (
    f"SELECT {HEAD_COLUMNS} FROM posts WHERE board_id = ? ORDER BY first_seen DESC, id LIMIT ?"
)
_NEWEST_ALL = text(
    f"SELECT p.{HEAD_COLUMNS.replace(', ', ', p.')} FROM unnest(CAST(:ids AS integer[])) AS b(id) "
    f"CROSS JOIN LATERAL (SELECT {HEAD_COLUMNS} FROM posts WHERE posts.board_id = b.id "
    "ORDER BY first_seen DESC, id LIMIT :head) AS p"
)
