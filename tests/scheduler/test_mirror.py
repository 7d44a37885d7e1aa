"""A start whose config the store mirrors already skips the sync (`storage.mirror`): it must
never skip one that would change what is stored. Each change a sync writes is made to a config,
and the store after it is compared with a new store's first sync of the changed config."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from scheduler.config import BoardConfig, Config, Storage, SubscriberConfig
from scheduler.context import open_context, sync
from storage.db import close_all
from tests.scheduler.desk import BOARD, subscriber

MAIL = "mailto://bot:pw1@mail.example.org?to=a@example.org"
SLACK = "slack://T000/B000/XXXX"
OTHER_BOARD = BoardConfig(name="other", url="https://other.example.kr/bbs/board.php?bo_table=n")


def config(url: str, subscribers: list[SubscriberConfig], boards: list[BoardConfig]) -> Config:
    return Config(storage=Storage(url=url), boards=boards, subscribers=subscribers)


def base() -> dict[str, Any]:
    return {
        "subscribers": [
            subscriber("team", MAIL, SLACK, keywords=["탄소"]),
            subscriber("ops", MAIL, boards=["esg"]),
        ],
        "boards": [BOARD, OTHER_BOARD],
    }


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    parts = base()
    change(parts)
    return parts


def _set(index: int, **keys: Any) -> Callable[[dict[str, Any]], None]:
    def change(parts: dict[str, Any]) -> None:
        old = parts["subscribers"][index]
        parts["subscribers"][index] = old.model_copy(update=keys)

    return change


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "a keyword added": _set(0, keywords=["탄소", "공시"]),
    "a keyword excluded": _set(0, exclude_keywords=["채용"]),
    "updates asked for": _set(0, include_updates=True),
    "a schedule set": _set(1, digest="daily@08:00"),
    "boards narrowed": _set(0, boards=["other"]),
    "boards widened to all": _set(1, boards=None),
    "a secret edited": _set(0, urls=[MAIL.replace("pw1", "pw2"), SLACK]),
    "a target removed": _set(0, urls=[MAIL]),
    "a target added": _set(1, urls=[MAIL, SLACK]),
    "a subscriber added": lambda p: p["subscribers"].append(subscriber("new", SLACK)),
    "a subscriber removed": lambda p: p["subscribers"].pop(1),
    "subscribers renamed": _set(1, name="ops2"),
    "a board retitled": lambda p: p["boards"].__setitem__(
        1, OTHER_BOARD.model_copy(update={"title": "공지"})
    ),
    "a board added": lambda p: p["boards"].append(
        BoardConfig(name="third", url="https://third.example.kr/bbs/board.php?bo_table=x")
    ),
}

# what a sync writes: every column of these tables but the store's own ids and clocks
MIRRORED = {
    "boards": "SELECT name, title FROM boards ORDER BY name",
    "subscribers": (
        "SELECT name, active, boards, keywords, exclude_keywords, include_updates, digest "
        "FROM subscribers ORDER BY name"
    ),
    "targets": (
        "SELECT s.name, t.url_hash, t.masked, t.identity, t.active FROM targets t "
        "JOIN subscribers s ON s.id = t.subscriber_id ORDER BY s.name, t.url_hash"
    ),
}


def stored(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {table: db.execute(query).fetchall() for table, query in MIRRORED.items()}


def synced(path: Path, *configs: dict[str, Any], mirror: bool = True) -> dict[str, list[Any]]:
    """The store at `path` after a start (a sync) with each config in turn; without `mirror`,
    each start syncs in full, as every start did before the mirror (its row deleted first)."""
    for parts in configs:
        if not mirror and path.exists():
            with sqlite3.connect(path) as db:
                db.execute("DELETE FROM mirror")
        sync(open_context(config(f"sqlite:///{path}", **parts)))
        close_all()
    return stored(path)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_changed_config_is_synced_as_a_full_sync_would(tmp_path: Path, change: str) -> None:
    edited = _edit(CHANGES[change])
    assert synced(tmp_path / "edited.db", edited) != synced(tmp_path / "base.db", base())
    for step, parts in enumerate((base(), base(), edited, edited, base())):
        kept = synced(tmp_path / "kept.db", parts)
        assert kept == synced(tmp_path / "full.db", parts, mirror=False), step


def test_two_configs_taking_turns_each_find_the_store_as_theirs(tmp_path: Path) -> None:
    """Two workers with different configs on one store each sync in turn (slower, not wrong)."""
    edited = _edit(CHANGES["a secret edited"])
    for step, parts in enumerate((base(), edited, base(), edited, edited, base())):
        kept = synced(tmp_path / "kept.db", parts)
        assert kept == synced(tmp_path / "full.db", parts, mirror=False), step


def test_a_start_with_an_unchanged_config_reads_one_row_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Opening the context (the targets' check) and its sync: one query, the mirror's (not
    every subscriber's target URL sent and read back, nor every subscriber and target read)."""
    path = tmp_path / "bw.db"
    synced(path, base())
    before = stored(path), _mirror_row(path)
    sent: list[str] = []

    def seen(*args: object) -> None:
        sent.append(" ".join(str(args[2]).split()))

    event.listen(Engine, "before_cursor_execute", seen)  # the store's reading and writing engines
    try:
        sync(open_context(config(f"sqlite:///{path}", **base())))
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
        close_all()
    queries = [q for q in sent if q != "BEGIN" and "alembic_version" not in q]  # SQLite's own
    assert len(queries) == 1 and "FROM mirror" in queries[0], sent
    assert (stored(path), _mirror_row(path)) == before


def _mirror_row(path: Path) -> tuple[Any, ...]:
    with sqlite3.connect(path) as db:
        return tuple(db.execute("SELECT digest, synced_at FROM mirror").fetchall())


@pytest.mark.parametrize(
    "deleted", ["DELETE FROM targets WHERE masked LIKE 'slack%'", "DELETE FROM subscribers"]
)
def test_rows_deleted_by_hand_are_synced_back(tmp_path: Path, deleted: str) -> None:
    path = tmp_path / "bw.db"
    whole = synced(path, base())
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(deleted)
    assert stored(path) != whole
    assert synced(path, base()) == whole


def test_the_migrations_build_the_tables_the_models_declare(tmp_path: Path) -> None:
    """The mirror's table (and every other) as `storage.models` declares it."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.db import Store
    from storage.models import Base

    store = Store(f"sqlite:///{tmp_path / 'bw.db'}")
    store.upgrade()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    # posts' newest-first index is an expression (`first_seen DESC`) alembic cannot compare on
    # SQLite: it reports it removed and added again, nothing else may differ
    named = [(op[0], getattr(op[1], "name", op[1])) for op in diff]
    assert named == [
        ("remove_index", "ix_posts_board_newest"),
        ("add_index", "ix_posts_board_newest"),
    ], diff
