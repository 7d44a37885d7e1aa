"""What differs between SQLite and PostgreSQL is asked of `storage.dialect`, and nowhere else."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import storage
from storage import Store, dialect

STORAGE = Path(storage.__file__).parent
BRANCH = re.compile(r"dialect\.name|sqlalchemy\.dialects|is_sqlite")


def test_no_storage_module_but_dialect_branches_on_the_database() -> None:
    found = [
        f"{path.name}:{number}"
        for path in sorted(STORAGE.glob("*.py"))
        if path.name != "dialect.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if BRANCH.search(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("sqlite:///data/boardwatch.db", Path("data")),
        ("sqlite:////var/lib/bw/bw.db", Path("/var/lib/bw")),
        ("sqlite:///boardwatch.db", Path(".")),
        ("sqlite:///:memory:", Path(".")),
        ("sqlite://", Path(".")),
        ("postgresql+psycopg://bw@db/boardwatch", None),
    ],
)
def test_a_sqlite_url_names_the_folder_its_file_is_made_in(url: str, folder: Path | None) -> None:
    assert dialect.local_folder(url) == folder


def test_each_backend_says_how_its_writers_keep_apart(store: Store) -> None:
    sqlite = store.engine.dialect.name == "sqlite"
    assert dialect.row_locks(store.engine) is (not sqlite) is store.claims_rows
    assert dialect.reads_apart(store.engine) is sqlite
    assert (store.reader is store.engine) is not sqlite


def test_the_database_clock_is_utc(store: Store) -> None:
    with store.read() as session:
        moment = dialect.clock(session)
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_connection_the_server_dropped_while_it_idled_is_replaced(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server restarted, or an idle timeout, between two transactions: the next transaction
    gets a new connection, not an error — a connection that idled past IDLE_PING is pinged as it
    is taken (seconds here: none)."""
    if not dialect.row_locks(store.engine):
        pytest.skip("SQLite: a file, no connection a server could drop")
    monkeypatch.setattr(dialect, "IDLE_PING", 0.0)
    with store.read() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(store.engine.url.render_as_string(hide_password=False))
    gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        deadline = time.monotonic() + 30
        while conn.execute(gone, {"pid": pid}).scalar() and time.monotonic() < deadline:
            conn.rollback()  # a new snapshot of pg_stat_activity each turn
    admin.dispose()
    with store.read() as session:
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid


@pytest.mark.parametrize(("idle_ping", "pings"), [(3600.0, 0), (0.0, 3)])
def test_a_connection_is_pinged_only_after_it_idled(
    store: Store, monkeypatch: pytest.MonkeyPatch, idle_ping: float, pings: int
) -> None:
    """Three transactions one after another on one connection (the store's upgrade used it
    before): pinged as it is taken only when it idled past IDLE_PING — a ping before every
    transaction was a round trip each."""
    if not dialect.row_locks(store.engine):
        pytest.skip("SQLite: a file, no connection to ping")
    monkeypatch.setattr(dialect, "IDLE_PING", idle_ping)
    pinged: list[object] = []
    real = store.engine.dialect.do_ping
    monkeypatch.setattr(
        store.engine.dialect, "do_ping", lambda conn: pinged.append(conn) or real(conn)
    )
    for _ in range(3):
        with store.read() as session:
            session.execute(text("SELECT 1"))
    assert len(pinged) == pings
