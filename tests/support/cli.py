"""The `scrape` command run in this process: for commands that start no reactor (config
loading, status, posts), where a new process per case would only add start-up time."""

from __future__ import annotations

import logging

import pytest

from scheduler.cli import main
from tests.support.workspace import Result, Workspace


def scrape(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> Result:
    """Run `scrape ARGS` in-process against the workspace, as the real command would."""
    for name, value in ws.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ws.path)
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(list(args))
    finally:  # the command points logging at this test's captured stderr: undo that
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    return Result(code, out, err)
