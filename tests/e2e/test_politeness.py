"""Politeness as a site sees it: never more than `[crawl] concurrency` requests in flight to one
site — in `scrape once` and in the daemon, whose boards that fall due together share one crawl —
and robots.txt read at most once a day per site, by cron runs and the daemon alike."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, esg_config, wait_until

sys.path.insert(0, str(Path(__file__).parents[2]))
from benchmarks.boardgen import BoardGenerator, Boards

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.backends("sqlite")]


def test_once_never_has_more_than_concurrency_requests_in_flight_to_a_site(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(
        esg_config(board_server, urls=[smtp.url()]).replace("[crawl]", "[crawl]\nconcurrency = 2")
    )
    workspace.run("once", check=0)
    board.add_many(30)  # 30 post pages to fetch at once, if nothing held them back
    board.detail_delay = 0.1
    board.most_in_flight = 0
    workspace.run("once", check=0)
    assert len(board.detail_requests()) >= 30
    assert board.most_in_flight == 2


def many_boards(gen: BoardGenerator, n: int, extra: str = "") -> str:
    boards = "".join(
        f'[[boards]]\nname = "b{i}"\nurl = "{gen.url(i)}"\ninterval = "1s"\n\n' for i in range(n)
    )
    return f"[crawl]\nconcurrency = 3\n{extra}\n{boards}"


@pytest.mark.long(5)
def test_the_daemon_walks_boards_due_together_in_one_crawl_within_the_site_limit(
    workspace: Workspace,
) -> None:
    boards = Boards(40, posts=30)
    with BoardGenerator(boards) as gen:
        workspace.write(many_boards(gen, 40))
        workspace.run("once", check=0)
        boards.delay = 0.05
        boards.most_in_flight.clear()
        robots = boards.requests["robots"]
        with workspace.started("run") as daemon:
            wait_until(lambda: workspace.runs() >= 40 * 3, 60, "three cycles of 40 boards")
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=15) == 0
        assert max(boards.most_in_flight.values()) <= 3
        assert boards.requests["robots"] == robots  # read by the first run, trusted for a day
