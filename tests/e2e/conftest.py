"""End-to-end tests run on every backend: SQLite, and PostgreSQL when it is configured."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "workspace" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)
