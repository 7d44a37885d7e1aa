"""The forked `scrape` runs stand in for the console script: the same output and exit code, and
a run the test abandons (pytest-timeout, Ctrl-C) leaves no command running and no answer behind
for the next run to misread."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from .board import BoardServer, EsgBoard
from .workspace import SCRAPE, Workspace, esg_config, wait_until
from .zygote import ENABLED

pytestmark = pytest.mark.skipif(not ENABLED, reason="BOARDWATCH_TEST_FORK=0: no forked runs")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path, f"sqlite:///{tmp_path / 'bw.db'}")


@pytest.fixture
def board_server() -> Iterator[BoardServer]:
    with BoardServer(EsgBoard()) as server:
        yield server


def running_in(path: Path) -> list[int]:
    """The processes whose working directory is `path`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == path.resolve():
                found.append(int(pid))
        except OSError:  # gone, or not ours to read
            continue
    return found


def test_a_forked_run_answers_as_the_console_script_does(ws: Workspace) -> None:
    ws.write("[[boards]]\nname = 'x'\nurl = 'http://127.0.0.1:9/list'\nprofile = 'nope'\n")
    commands = (["--version"], ["check"], ["bogus"], ["posts", "--json"])
    forked = [ws.run(*args) for args in commands]
    real = [
        subprocess.run(
            [SCRAPE, *args], cwd=ws.path, env=ws.environ(), capture_output=True, text=True
        )
        for args in commands
    ]

    def seen(code: int, out: str, err: str) -> tuple[int, str, str]:  # the clock aside
        return code, out, re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", err, flags=re.M)

    assert [seen(r.code, r.out, r.err) for r in forked] == [
        seen(r.returncode, r.stdout, r.stderr) for r in real
    ]
    assert [r.code for r in forked] == [0, 2, 2, 2]


@pytest.mark.long(4)
def test_an_abandoned_run_leaves_no_command_running_and_the_next_run_its_own_answer(
    ws: Workspace, board_server: BoardServer
) -> None:
    ws.write(esg_config(board_server, urls=[], board='interval = "1s"'))

    def abandon(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # as pytest-timeout or Ctrl-C interrupts a test

    previous = signal.signal(signal.SIGALRM, abandon)
    signal.setitimer(signal.ITIMER_REAL, 3.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            ws.run("run")  # a daemon: it never ends by itself
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    wait_until(lambda: not running_in(ws.path), 10, "the abandoned daemon to be gone")
    assert ws.run("--version").code == 0 and ws.run("--version").out.startswith("scrape")
