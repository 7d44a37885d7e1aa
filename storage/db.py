"""Engines, sessions and schema upgrades (Alembic), one cached engine per database URL."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision: migration files are named "<revision>_<what>.py", revisions in order.
HEAD = max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
UPGRADE_LOCK = 0x62775F7570  # pg_advisory_xact_lock key for schema upgrades ("bw_up")


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # reads need no write lock: on SQLite they get an engine that begins DEFERRED
        reader = (
            _engine(url, immediate=False) if self.engine.dialect.name == "sqlite" else self.engine
        )
        self.reader = reader
        self._readers = sessionmaker(reader, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def claims_rows(self) -> bool:
        """Can a run claim one target's row while others skip it (PostgreSQL's `FOR UPDATE SKIP
        LOCKED`), so runs share the sending? Where not (SQLite: a writer locks the whole file),
        one run at a time sends, under a run-wide lease its caller holds."""
        return not self.is_sqlite

    def close(self) -> None:
        """Close its connections (the store can still be used: it opens new ones)."""
        self.engine.dispose()
        self.reader.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction, committed when the block succeeds, rolled back when it raises."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A look at the store that changes nothing (and takes no write lock on SQLite)."""
        with self._readers() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def dry_run(self) -> Iterator[Session]:
        """Writes that are rolled back at the end: what a run would do, with nothing kept."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    def upgrade(self) -> bool:
        """Bring the schema to the newest revision; True when anything was done."""
        try:
            if self.revision() == HEAD:
                return False
            with self.engine.begin() as conn:
                # several workers may start together: one migrates, the others wait and find it done
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
                if _revision(conn) == HEAD:
                    return False
                _run_alembic(conn)
            return True
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open or upgrade the database: {describe(exc)}",
                "check [storage] url / $SCRAPE_DATABASE_URL and that the database is reachable",
            ) from exc

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return _revision(conn)


_OPEN: dict[str, Store] = {}


def open_store(url: str) -> Store:
    """The process-wide store for `url`, its schema upgraded."""
    if url not in _OPEN:
        store = Store(url)
        store.upgrade()
        _OPEN[url] = store
    return _OPEN[url]


def close_all() -> None:
    """Close every open store's connections (before a process ends without tearing down)."""
    for store in _OPEN.values():
        store.close()


def _engine(url: str, immediate: bool = True) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:  # bad URL forms and missing drivers alike
        raise StoreError(
            f"cannot use the database URL: {type(exc).__name__}: {exc}",
            "e.g. sqlite:///boardwatch.db, or postgresql+psycopg://… with boardwatch[postgres]",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if immediate:
            turn = _WriteTurn()
            event.listen(engine, "begin", turn.begin)
            event.listen(engine, "commit", turn.end)
            event.listen(engine, "rollback", turn.end)
        else:
            event.listen(engine, "begin", _sqlite_deferred)
    return engine


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


BUSY_TIMEOUT = 30.0  # seconds a connection waits for another's write before "database is locked"


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


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _run_alembic(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def insert_missing(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows whose keys (primary or unique) are not stored yet, and skip the others —
    rows another run inserts at the same moment included — in the database's own dialect
    (`INSERT … ON CONFLICT DO NOTHING`): any number of runs may start together on a new store.
    In statements of at most 1,000 rows: a driver's bound parameters are limited (PostgreSQL's
    protocol to 65,535, SQLite's older builds to 32,766)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    for start in range(0, len(rows), 1000):
        batch = list(rows[start : start + 1000])
        session.execute(dialect.insert(model).values(batch).on_conflict_do_nothing())


def insert_new(session: Session, model: type[Any], row: Mapping[str, Any]) -> bool:
    """Insert `row` unless a row with its keys is stored (`insert_missing`, for one row); True
    when this call inserted it — of two runs inserting it at the same moment, only one is told
    so (`RETURNING` answers for the rows inserted only: a rowcount is not reliable here)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    keys = list(model.__table__.primary_key.columns)
    statement = dialect.insert(model).values(dict(row)).on_conflict_do_nothing()
    return bool(session.execute(statement.returning(*keys)).all())


def describe(exc: BaseException) -> str:
    """A database error in one line, without the SQL statement and parameters SQLAlchemy adds."""
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        detail = str(getattr(exc, "orig", ""))
    else:
        detail = str(exc)
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    if isinstance(exc, StoreError) and first:
        return first  # already in our words
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def reachable(url: str) -> None:
    """Can the store at `url` be opened? (Nothing is created or changed: for SQLite the file's
    folder must be writable; another database must answer.) Raises StoreError."""
    if url.startswith("sqlite"):
        path = url.partition(":///")[2]
        folder = Path(path).parent if path and not path.startswith(":memory:") else Path(".")
        if not os.access(folder, os.W_OK):
            raise StoreError(f"cannot create the database in {folder}: not a writable folder")
        return
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reach the database: {describe(exc)}") from exc
    finally:
        engine.dispose()
