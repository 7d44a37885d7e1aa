"""`scrape run` and overlapping runs: every post delivered exactly once, clean shutdown."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from scraper.keys import site_of
from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, esg_config, log_of, received, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")


def test_daemon_delivers_within_10s_once_and_exits_0_on_sigterm(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    with workspace.started("run") as daemon:
        wait_until(lambda: workspace.runs() >= 1, 30, "the baseline crawl")
        post = board.add("데몬이 찾을 새 게시글")
        took = wait_until(lambda: len(smtp.messages) >= 1, 10, "the digest")
        assert took < 10
        seen = workspace.runs()
        wait_until(lambda: workspace.runs() >= seen + 2, 20, "two more crawls")
        assert received(smtp, [post]) == Counter({post.id: 1}) and len(smtp.messages) == 1
        daemon.send_signal(signal.SIGTERM)
        start = time.monotonic()
        code = daemon.wait(timeout=10)
        assert code == 0 and time.monotonic() - start < 10
        assert "stopped" in log_of(daemon)


def test_two_runs_started_together_deliver_each_post_once(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    new = board.add_many(25)
    board.delay = 0.3
    with workspace.started("once") as first, workspace.started("once") as second:
        codes = first.wait(timeout=90), second.wait(timeout=90)
        logs = log_of(first) + log_of(second)
    assert codes == (0, 0), logs
    assert "skipped, another run is crawling its site" in logs
    assert received(smtp, new) == Counter({p.id: 1 for p in new})


def test_once_while_the_daemon_crawls_delivers_each_post_once(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    workspace.run("once", check=0)
    with workspace.started("run") as daemon:
        board.delay = 1.0
        new = board.add_many(3)
        crawls = len(board.list_requests())
        wait_until(lambda: len(board.list_requests()) > crawls, 10, "the daemon's next crawl")
        result = workspace.run("once")  # starts while the daemon's crawl is in flight
        assert result.code == 0, result.all
        board.delay = 0
        wait_until(lambda: received(smtp, new) == Counter({p.id: 1 for p in new}), 15, "delivery")
        seen = workspace.runs()
        wait_until(lambda: workspace.runs() >= seen + 2, 20, "two more daemon crawls")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    assert received(smtp, new) == Counter({p.id: 1 for p in new})


def test_lease_of_a_killed_run_expires_and_a_live_one_is_respected(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)

    def hold(expires: datetime) -> None:
        workspace.sql("DELETE FROM locks")
        workspace.sql(
            "INSERT INTO locks VALUES (:site, 'gone-host:4242:abcd', :at, :until)",
            site=f"site:{site_of(board_server.list_url)}",
            at=datetime.now(UTC).replace(tzinfo=None),
            until=expires.replace(tzinfo=None),
        )

    hold(datetime.now(UTC) + timedelta(minutes=5))  # a live run on another host holds the site
    board.requests.clear()
    live = workspace.run("once", check=0)
    assert "esg: skipped, another run is crawling its site (gone-host:4242)" in live.err
    assert board.list_requests() == []
    hold(datetime.now(UTC) - timedelta(seconds=1))  # its holder was killed: the lease ran out
    post = board.add("잠금 만료 후 게시글")
    workspace.run("once", check=0)
    assert received(smtp, [post]) == Counter({post.id: 1})
