"""What operators plug boardwatch into, end to end against the real command and the real daemon:
a health probe (`status --check`), a Prometheus scrape (the daemon's /metrics, `once`'s textfile),
a JSON log reader, a feed reader (Atom, parsed by feedparser), and systemd's notify socket."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, time
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.workspace import Workspace, esg_config, log_of, wait_until

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.backends("sqlite")]


def metrics_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Each sample by name and labels, as a Prometheus server reads the text."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_version_is_the_installed_one(workspace: Workspace) -> None:
    result = workspace.run("--version", check=0)
    assert result.out.strip() == f"scrape (boardwatch) {version('boardwatch')}"


@pytest.mark.long(5)
def test_status_check_is_ok_only_while_every_board_and_target_is_healthy(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    notify = "[notify]\nfailure_threshold = 2"
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=notify))
    never = workspace.run("status", "--check", check=1)
    assert never.out.strip() == "CRITICAL board esg: never run"
    workspace.run("once", check=0)
    assert workspace.run("status", "--check", check=0).out.startswith("OK 1 board(s)")

    board.failures["list"] = 503
    workspace.run("once", check=1)
    failed = workspace.run("status", "--check", check=1)
    assert failed.out.count("\n") == 1
    assert failed.out.startswith("CRITICAL board esg: last run failed:") and "503" in failed.out
    del board.failures["list"]
    workspace.run("once", check=0)

    workspace.sql("UPDATE boards SET last_run_at = '2020-01-01 00:00:00'")  # 3 intervals ago
    stale = workspace.run("status", "--check", check=1).out
    assert "board esg: last run 2020-01-01T09:00:00+09:00 is older than 3 intervals" in stale
    workspace.run("once", check=0)

    smtp.fail_with = "451 4.3.0 Try again later"
    for _ in range(2):
        board.add("받는 쪽이 거절할 게시글")
        workspace.run("once", check=1)
    refused = workspace.run("status", "--check", check=1).out.splitlines()
    assert len(refused) == 1 and refused[0].startswith("CRITICAL subscriber sub0: target mailto")
    assert "refused 2 sends in a row (failure_threshold = 2)" in refused[0]
    assert PASSWORD not in refused[0]


def test_once_writes_metrics_to_a_textfile_and_atom_feeds(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    extra = '[metrics]\ntextfile = "out/boardwatch.prom"\n[feeds]\nfolder = "feeds"\nentries = 5'
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=extra))
    workspace.run("once", check=0)
    baseline = metrics_of((workspace.path / "out" / "boardwatch.prom").read_text())
    pending = [v for (name, _), v in baseline.items() if name.endswith("_pending_entries")]
    assert pending == [0]  # a target that was never sent anything waits for nothing
    hostile = board.add('<script>alert("x")</script> 탄소 & "중립" 정책')
    workspace.run("once", check=0)
    found = metrics_of((workspace.path / "out" / "boardwatch.prom").read_text())
    esg = (("board", "esg"),)
    assert found[("boardwatch_board_runs_total", esg)] == 2
    assert found[("boardwatch_board_new_posts_total", esg)] == 10 * board.per_page + 2 + 1
    assert found[("boardwatch_board_list_pages_total", esg)] == 10 + 2
    assert found[("boardwatch_board_failures_total", esg)] == 0
    assert found[("boardwatch_board_up", esg)] == 1
    assert found[("boardwatch_board_crawl_seconds_total", esg)] > 0
    (target,) = [labels for name, labels in found if name == "boardwatch_target_sent_total"]
    assert dict(target)["subscriber"] == "sub0" and PASSWORD not in dict(target)["target"]
    assert found[("boardwatch_target_sent_total", target)] == 1
    assert found[("boardwatch_target_pending_entries", target)] == 0

    feed = feedparser.parse((workspace.path / "feeds" / "boards" / "esg.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "ESG 정책뉴스" and len(feed.entries) == 5
    newest = feed.entries[0]
    assert newest.title == hostile.title and newest.link.endswith(f"no={hostile.id}&page=1")
    assert newest.id == f"tag:boardwatch,2026:post/esg/{hostile.id}"
    published = datetime.combine(board.today, time(), ZoneInfo("Asia/Seoul")).astimezone(UTC)
    assert newest.published_parsed[:4] == published.timetuple()[:4]  # the date the board gives
    mine = feedparser.parse((workspace.path / "feeds" / "subscribers" / "sub0.xml").read_bytes())
    assert not mine.bozo and [e.id for e in mine.entries] == [newest.id]  # the baseline is not news

    board.retitle(hostile.id, "제목이 바뀐 게시글")
    board.add("다음 게시글")
    workspace.run("once", check=0)
    again = feedparser.parse((workspace.path / "feeds" / "boards" / "esg.xml").read_bytes())
    assert newest.id in [e.id for e in again.entries]  # the same post keeps its id


def test_subscriber_feed_holds_only_what_matched_their_keywords(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    subs = f'[[subscribers]]\nname = "carbon"\nurls = ["{smtp.url()}"]\nkeywords = ["탄소"]\n'
    workspace.write(
        esg_config(board_server, urls=[], subscribers=subs, extra='[feeds]\nfolder = "feeds"')
    )
    workspace.run("once", check=0)
    carbon = board.add("탄소중립 추진 현황")
    board.add("수소 경제 로드맵")
    workspace.run("once", check=0)
    feed = feedparser.parse((workspace.path / "feeds" / "subscribers" / "carbon.xml").read_bytes())
    assert [e.title for e in feed.entries] == [carbon.title]


class Systemd:
    """A socket standing in for systemd's, read as systemd reads it: every datagram, at once."""

    def __init__(self, path: Path) -> None:
        self.path, self.said = path, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.said.append(self.sock.recv(4096).decode())


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[Systemd]:
    listener = Systemd(tmp_path / "notify.sock")
    yield listener
    listener.sock.close()


def test_the_daemon_serves_metrics_writes_feeds_logs_json_and_talks_to_systemd(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    systemd: Systemd,
) -> None:
    port = free_port()
    extra = f'[metrics]\naddress = "127.0.0.1:{port}"\n[feeds]\nfolder = "feeds"'
    workspace.write(
        esg_config(board_server, urls=[smtp.url()], extra=extra, board='interval = "1s"')
    )
    workspace.env.update(
        NOTIFY_SOCKET=str(systemd.path),
        WATCHDOG_USEC="200000",  # a ping every 0.1 s
    )
    with workspace.started("--log-format", "json", "run") as daemon:
        wait_until(lambda: len(systemd.said) >= 4, 30, "READY=1 and the first pings")
        assert systemd.said[0].startswith("READY=1") and set(systemd.said[1:4]) == {"WATCHDOG=1"}
        wait_until(lambda: workspace.runs() >= 1, 30, "the baseline crawl")
        post = board.add("데몬이 찾을 새 게시글")
        wait_until(lambda: len(smtp.messages) >= 1, 15, "the digest")
        wait_until(lambda: workspace.runs() >= 3, 15, f"more crawls: {log_of(daemon)}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            found = metrics_of(answer.read().decode())
        assert found[("boardwatch_board_runs_total", (("board", "esg"),))] >= 3
        assert found[("boardwatch_board_up", (("board", "esg"),))] == 1
        assert workspace.run("status", "--check", check=0).out.startswith("OK")  # the probe
        feed = feedparser.parse((workspace.path / "feeds" / "boards" / "esg.xml").read_bytes())
        assert not feed.bozo and feed.entries[0].title == post.title
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
        wait_until(lambda: "STOPPING=1" in systemd.said, 5, "STOPPING=1")
        pings = systemd.said.index("STOPPING=1") - 1
        assert pings >= 10 and set(systemd.said[1 : pings + 1]) == {"WATCHDOG=1"}  # 0.1 s apart
        lines = [json.loads(line) for line in log_of(daemon).splitlines()]
    assert all({"time", "level", "message"} <= set(line) for line in lines)
    crawls = [line for line in lines if line.get("board") == "esg"]
    assert crawls and all(line["level"] == "INFO" for line in crawls)
    digest = next(line for line in lines if line.get("subscriber") == "sub0")
    assert digest["target"].startswith("mailto://") and PASSWORD not in json.dumps(lines)


def test_json_logs_mask_secrets_and_name_the_failing_target(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    smtp.fail_with = f"451 4.3.0 not now {PASSWORD}"  # a server that echoes the secret back
    board.add("거절될 게시글")
    result = workspace.run("-q", "--log-format", "json", "once", check=1)
    (line,) = [json.loads(text) for text in result.err.splitlines()]
    assert line["level"] == "WARNING" and line["subscriber"] == "sub0"
    assert PASSWORD not in result.err and "451" in line["message"]


def test_ctrl_c_on_once_exits_130_saying_what_was_stored_and_each_board_told_as_it_ended(
    workspace: Workspace, board_server: BoardServer, smtp: SmtpSink
) -> None:
    held = EsgBoard()
    held.delay = 90  # its list page answers long after this test is over
    with BoardServer(held) as slow:
        second = f'\n[[boards]]\nname = "held"\nurl = "{slow.list_url}"\n'
        config = esg_config(board_server, urls=[smtp.url()]).replace(
            "timeout = 10", "timeout = 300"
        )
        workspace.write(config + second)
        with workspace.started("once") as proc:
            # the board that finished is told of while the other is still being crawled
            wait_until(lambda: "esg: baseline" in log_of(proc), 60, "esg's line")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 130
            log = log_of(proc)
    assert (
        log.strip()
        .splitlines()[-1]
        .endswith(
            "interrupted: 1 of 2 board(s) crawled, what they found stored"
            " (the next run crawls the rest); no digest sent"
        )
    )
    assert "Traceback" not in log and not smtp.messages
    assert workspace.scalar("SELECT count(*) FROM posts") > 0  # esg's baseline stays stored
