"""A fresh store per test: SQLite always, PostgreSQL too when BOARDWATCH_TEST_PG_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import Store
from storage.models import Base

PG_URL = os.environ.get("BOARDWATCH_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    elif PG_URL:
        url = PG_URL
    else:
        pytest.skip("PostgreSQL: BOARDWATCH_TEST_PG_URL is not set")
    store = Store(url)
    _reset(store)
    store.upgrade()
    yield store
    store.engine.dispose()


def _reset(store: Store) -> None:
    with store.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
