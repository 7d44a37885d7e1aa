"""What the command prints when something it did not expect goes wrong: one line saying what
failed — no SQL text, no traceback — unless `-v` asks for the detail."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from scheduler import cli
from tests.support.cli import scrape
from tests.support.workspace import Workspace

STATEMENT = "INSERT INTO boards (name, title) VALUES (%(name)s, %(title)s) RETURNING boards.id"


def duplicate(_: argparse.Namespace) -> int:
    cause = Exception(
        'duplicate key value violates unique constraint "boards_name_key"\n'
        "DETAIL:  Key (name)=(esg) already exists."
    )
    raise IntegrityError(STATEMENT, {"name": "esg", "title": "ESG"}, cause)


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setitem(cli.COMMANDS, "posts", duplicate)
    return Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")


@pytest.mark.parametrize("quiet", [(), ("-q",)])
def test_an_unexpected_database_error_is_one_line_without_sql(
    failing: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    quiet: tuple[str, ...],
) -> None:
    result = scrape(failing, capsys, monkeypatch, *quiet, "posts")
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert "IntegrityError" in line and "boards_name_key" in line and "-v" in line
    assert "INSERT" not in result.err and "[SQL" not in result.err and "DETAIL" not in result.err


def test_verbose_shows_the_traceback(
    failing: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = scrape(failing, capsys, monkeypatch, "-v", "posts")
    assert result.code == 1 and "Traceback" in result.err
