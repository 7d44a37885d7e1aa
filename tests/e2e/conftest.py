"""End-to-end tests run on every backend: SQLite, and PostgreSQL when it is configured — except
those marked `backends("sqlite")`, whose subject is not the store (reading boards, say)."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "workspace" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        backends = list(marker.args) if marker else BACKENDS
        metafunc.parametrize("backend", backends, indirect=True)
