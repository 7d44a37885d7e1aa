"""Storage tests run on every backend: SQLite, and PostgreSQL when it is configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import Store
from tests.conftest import BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames or "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def store(backend: str) -> Iterator[Store]:
    store = Store(backend)
    store.upgrade()
    yield store
    store.engine.dispose()
