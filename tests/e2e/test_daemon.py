"""`scrape run` and overlapping runs: every post delivered exactly once, clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import SCRAPE, Workspace, esg_config
from tests.support.board import BoardServer, EsgBoard, Post
from tests.support.mail import SmtpSink

pytestmark = pytest.mark.filterwarnings("ignore")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.1)
    return time.monotonic() - start


@contextmanager
def started(ws: Workspace, *args: str) -> Iterator[subprocess.Popen[str]]:
    """The real command in the background; its log goes to a file (a full pipe would stall it)."""
    env = {
        **os.environ,
        "SCRAPE_DATABASE_URL": ws.db_url,
        **ws.env,
        "SCRAPE_CONFIG": str(ws.config),
    }
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [SCRAPE, *args], cwd=ws.path, env=env, text=True, stdout=subprocess.DEVNULL, stderr=log
    )
    proc.log = log  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def log_of(proc: subprocess.Popen[str]) -> str:
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return str(log.read())


def deliveries(smtp: SmtpSink, posts: list[Post]) -> Counter[int]:
    """How many times each post reached the subscriber, over every mail received."""
    bodies = [m.get_body(("html",)).get_content() for m in smtp.messages]
    return Counter({p.id: sum(b.count(f"no={p.id}&amp;page") for b in bodies) // 2 for p in posts})


def test_daemon_delivers_within_10s_once_and_exits_0_on_sigterm(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "2s"'))
    with started(workspace, "run") as daemon:
        wait_until(lambda: len(board.list_requests()) >= 10, 20, "the baseline crawl")
        post = board.add("데몬이 찾을 새 게시글")
        took = wait_until(lambda: len(smtp.messages) >= 1, 10, "the digest")
        assert took < 10
        time.sleep(5)  # two more crawls: nothing sent again
        assert deliveries(smtp, [post]) == Counter({post.id: 1}) and len(smtp.messages) == 1
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
    with started(workspace, "once") as first, started(workspace, "once") as second:
        codes = first.wait(timeout=90), second.wait(timeout=90)
        logs = log_of(first) + log_of(second)
    assert codes == (0, 0), logs
    assert "skipped, another run is crawling it" in logs
    assert deliveries(smtp, new) == Counter({p.id: 1 for p in new})


def test_once_while_the_daemon_crawls_delivers_each_post_once(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "2s"'))
    workspace.run("once", check=0)
    with started(workspace, "run") as daemon:
        board.delay = 1.0
        new = board.add_many(3)
        crawls = len(board.list_requests())
        wait_until(lambda: len(board.list_requests()) > crawls, 10, "the daemon's next crawl")
        result = workspace.run("once")  # starts while the daemon's crawl is in flight
        assert result.code == 0, result.all
        board.delay = 0
        wait_until(lambda: deliveries(smtp, new) == Counter({p.id: 1 for p in new}), 15, "delivery")
        time.sleep(4)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    assert deliveries(smtp, new) == Counter({p.id: 1 for p in new})


def test_lease_of_a_killed_run_expires_and_a_live_one_is_respected(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)

    def hold(expires: datetime) -> None:
        workspace.sql("DELETE FROM locks")
        workspace.sql(
            "INSERT INTO locks VALUES ('board:esg', 'gone-host:4242:abcd', :at, :until)",
            at=datetime.now(UTC).replace(tzinfo=None),
            until=expires.replace(tzinfo=None),
        )

    hold(datetime.now(UTC) + timedelta(minutes=5))  # a live run holds the board
    board.requests.clear()
    live = workspace.run("once", check=0)
    assert "skipped, another run is crawling it (gone-host:4242)" in live.err
    assert board.list_requests() == []
    hold(datetime.now(UTC) - timedelta(seconds=1))  # its holder was killed: the lease ran out
    post = board.add("잠금 만료 후 게시글")
    workspace.run("once", check=0)
    assert deliveries(smtp, [post]) == Counter({post.id: 1})
