"""End-to-end tests run on every backend: SQLite, and PostgreSQL when it is configured — except
those marked `backends("sqlite")`, whose subject is not the store (reading boards, say)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS
from tests.support.shorturls import ShortUrlBoard, ShortUrlServer


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "workspace" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        backends = list(marker.args) if marker else BACKENDS
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def shorturls() -> Iterator[ShortUrlServer]:
    """A gnuboard-style board whose links change form with a site setting (query, numeric,
    title slugs), as gnuboard5's short URLs do."""
    with ShortUrlServer(ShortUrlBoard()) as server:
        yield server
