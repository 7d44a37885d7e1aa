"""Engines, sessions and schema upgrades (Alembic), one cached engine per database URL."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage import dialect
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
        # reads need no write lock: where writers take it up front, reads get an engine of their own
        reader = _engine(url, immediate=False) if dialect.reads_apart(self.engine) else self.engine
        self.reader = reader
        self._readers = sessionmaker(reader, expire_on_commit=False)

    @property
    def claims_rows(self) -> bool:
        """Can a run claim one target's row while others skip it (PostgreSQL's `FOR UPDATE SKIP
        LOCKED`), so runs share the sending? Where not (SQLite: a writer locks the whole file),
        one run at a time sends, under a run-wide lease its caller holds."""
        return dialect.row_locks(self.engine)

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
                dialect.advisory_lock(conn, UPGRADE_LOCK)
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
    try:
        engine = create_engine(url, **dialect.engine_options(url))
    except Exception as exc:  # bad URL forms and missing drivers alike
        raise StoreError(
            f"cannot use the database URL: {type(exc).__name__}: {exc}",
            "e.g. sqlite:///boardwatch.db, or postgresql+psycopg://… with boardwatch[postgres]",
        ) from exc
    dialect.prepare(engine, immediate=immediate)
    return engine


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
    for start in range(0, len(rows), 1000):
        batch = list(rows[start : start + 1000])
        session.execute(dialect.insert_or_skip(session, model, batch))


def insert_new(session: Session, model: type[Any], row: Mapping[str, Any]) -> bool:
    """Insert `row` unless a row with its keys is stored (`insert_missing`, for one row); True
    when this call inserted it — of two runs inserting it at the same moment, only one is told
    so (`RETURNING` answers for the rows inserted only: a rowcount is not reliable here)."""
    keys = list(model.__table__.primary_key.columns)
    statement = dialect.insert_or_skip(session, model, dict(row))
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
    folder = dialect.local_folder(url)
    if folder is not None:
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
