"""Shared fixtures: a local board, a real SMTP server, a Slack request recorder, and a way to
run the real `scrape` command against them in a scratch directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.pgdb import fresh_database
from tests.support.slack import SlackRecorder
from tests.support.workspace import Workspace

PG_URL = os.environ.get("BOARDWATCH_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core. Most end-to-end tests wait — on a `scrape` process, a
    daemon's interval, a server — and two per core keep the cores busy through it: the suite
    with PostgreSQL on 2 cores took 439 s with 2 workers and 280 s with 4 (5 % of the CPU
    idle), all passing (2026-12-06, BENCHMARKS.md "The test suite")."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first: a test marked `long(seconds)` (a daemon's cycles, a benchmark's smoke
    version, several processes) starts before every other, the longest first, so no worker is
    left running one alone at the end while the others wait. xdist deals each worker two tests
    to begin with, then one each time it finishes one (`--maxschedchunk 1`, pyproject), instead
    of runs of a quarter of the list. The seconds are what the test took quiet on 2 cores: an
    order, never a limit. (Pairing a longer with a shorter in the first deal measured the same:
    121 and 124 s with SQLite.)"""

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("long")
        if mark is None:
            return 0.0
        if len(mark.args) != 1 or not isinstance(mark.args[0], int | float):
            raise pytest.UsageError(f"{item.nodeid}: write @pytest.mark.long(SECONDS)")
        return -float(mark.args[0])

    items.sort(key=seconds)  # stable: every other test keeps pytest's order


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite by default; tests parametrized over BACKENDS also
    get a new PostgreSQL database of their own when BOARDWATCH_TEST_PG_URL is set."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'boardwatch.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL: BOARDWATCH_TEST_PG_URL is not set")
    with fresh_database(PG_URL) as url:
        yield url


@pytest.fixture
def board() -> EsgBoard:
    return EsgBoard()


@pytest.fixture
def board_server(board: EsgBoard) -> Iterator[BoardServer]:
    with BoardServer(board) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def slack() -> Iterator[SlackRecorder]:
    with SlackRecorder() as recorder:
        yield recorder


@pytest.fixture
def workspace(tmp_path: Path, backend: str, slack: SlackRecorder) -> Workspace:
    return Workspace(tmp_path, backend, env=slack.env())
