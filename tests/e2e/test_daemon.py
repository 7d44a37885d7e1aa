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


@pytest.mark.long(5)
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
    """The second starts while the first's crawl is certainly in flight (its list page held
    until the second has finished): a loaded machine can start two processes seconds apart."""
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    new = board.add_many(25)
    board.requests.clear()
    board.gate.clear()
    try:
        with workspace.started("once") as first:
            wait_until(lambda: board.list_requests() != [], 60, "the first run's crawl")
            with workspace.started("once") as second:
                codes = [second.wait(timeout=90)]
                board.gate.set()
                codes.insert(0, first.wait(timeout=90))
                logs = log_of(first) + log_of(second)
    finally:
        board.gate.set()
    assert codes == [0, 0], logs
    assert "skipped, another run is crawling its site" in logs
    assert received(smtp, new) == Counter({p.id: 1 for p in new})


@pytest.mark.long(5)
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


@pytest.mark.backends("sqlite")
def test_a_daemon_whose_store_cannot_be_opened_yet_starts_and_takes_it_up_when_it_can(
    workspace: Workspace, board_server: BoardServer, smtp: SmtpSink
) -> None:
    """Its database's folder is not there when it starts (a volume not mounted yet): the daemon
    starts anyway, says so in one line a cycle, and crawls once the folder appears — as a store
    lost mid-run is handled — instead of exiting 1 and leaving a restart loop to the supervisor."""
    later = workspace.path / "volume"
    workspace.db_url = f"sqlite:///{later / 'boardwatch.db'}"
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    with workspace.started("run") as daemon:
        wait_until(
            lambda: "tries again" in log_of(daemon), 30, "the daemon saying its store is away"
        )
        assert daemon.poll() is None  # running, not exited
        later.mkdir()
        wait_until(lambda: workspace.runs() >= 1, 60, "a crawl once the store could be opened")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        log = log_of(daemon)
    assert "Traceback" not in log and "unable to open database file" in log


@pytest.mark.long(11)
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("stall", [6.0, 20.0], ids=["answers in time", "answers too late"])
def test_sigterm_while_a_digest_is_sent_waits_for_the_servers_answer_within_10s(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink, stall: float
) -> None:
    """SIGTERM arrives while the SMTP server holds back its "250 OK" (it has the message): the
    daemon waits for the answer within its 10 s and records it, so the next run sends nothing
    again — or, past that, exits all the same and says the digest may have been delivered."""
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    workspace.run("once", check=0)
    board.add("종료 직전에 보내는 글")
    smtp.stall = stall
    with workspace.started("run") as daemon:
        smtp.wait_for(1, timeout=30)  # the server has it; its answer is held back
        daemon.send_signal(signal.SIGTERM)
        start = time.monotonic()
        assert daemon.wait(timeout=12) == 0
        took = time.monotonic() - start
        log = log_of(daemon)
    assert took < 10, log
    smtp.stall = 0.0
    workspace.run("once", check=0)
    if stall < 8:
        assert len(smtp.messages) == 1 and "may have been delivered" not in log
    else:
        assert "may have been delivered" in log and "mailto://bw:****@127.0.0.1" in log
        assert len(smtp.messages) == 2  # unrecorded, so sent again: what the line warned of
