"""The daemon's HTTP port in a real browser (Debian's headless Chromium) against the real `scrape
run`: the status page shows the boards and subscribers and reads at 390 px; a digest's own
unsubscribe link opens a page that changes nothing until its button is pressed — pressed in the
browser, it stops that one target's next digest while the subscriber's other target still gets
it, and tells the admins once; a forged token is 403; `scrape subscribers --resume` undoes it."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.browser import Browser
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.workspace import Workspace, esg_config, log_of, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")

SECRET = "e2e-secret-0123456789abcdef0123456789"


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    found = Browser(tmp_path / "browser")
    reason = found.unavailable()
    if reason:
        pytest.skip(f"headless Chromium cannot run here: {reason}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def html_of(mail: EmailMessage) -> str:
    body = mail.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def got(smtp: SmtpSink, to: str, title: str) -> int:
    """How many digests to `to` carried `title`."""
    return sum(title in html_of(m) for m in smtp.messages if m["To"] == to)


def answer(url: str, method: str = "GET") -> int:
    data = b"List-Unsubscribe=One-Click" if method == "POST" else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, method=method), timeout=10):
            return 200
    except urllib.error.HTTPError as error:
        return error.code


def serving(base: str) -> bool:
    try:
        answer(base + "/healthz")
    except OSError:
        return False
    return True


def test_a_subscriber_leaves_one_target_through_the_browser_and_the_other_still_gets_digests(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    browser: Browser,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    a, b = smtp.url("a@example.com"), smtp.url("b@example.com")
    team = f'[[subscribers]]\nname = "team"\nurls = {json.dumps([a, b])}\n'
    extra = (
        f'[http]\naddress = "127.0.0.1:{port}"\npublic_url = "{base}"\n'
        'secret = "${BOARDWATCH_SECRET}"\n'
        f"[notify]\nadmin_urls = {json.dumps([smtp.url('ops@example.com')])}\n"
    )
    workspace.write(
        esg_config(board_server, urls=[], subscribers=team, extra=extra, board='interval = "1s"')
    )
    workspace.env["BOARDWATCH_SECRET"] = SECRET
    with workspace.started("run") as daemon:
        wait_until(lambda: workspace.runs() >= 1 and serving(base), 30, "the baseline and the port")
        first = board.add("첫 새 글: 두 주소 모두에게")
        wait_until(
            lambda: (
                got(smtp, "a@example.com", first.title) and got(smtp, "b@example.com", first.title)
            ),
            15,
            "both digests",
        )
        links = {m["To"]: str(m["List-Unsubscribe"]).strip("<>") for m in smtp.messages}
        assert set(links) == {"a@example.com", "b@example.com"} and len(set(links.values())) == 2
        assert all(link.startswith(f"{base}/unsubscribe/") for link in links.values())

        status = browser.dom(base + "/")  # the status page, as the browser built it
        assert "ESG 정책뉴스" in status and first.title in status and "team" in status
        assert "a@example.com" in status and "b@example.com" in status and PASSWORD not in status
        assert "<script" not in status
        laid_out = browser.measure(base + "/", 390)
        assert int(laid_out["width"]) <= 390 and "next due" in laid_out["text"]

        opened = browser.dom(links["a@example.com"])  # what a mail scanner's prefetch does
        assert "<form" in opened and "a@example.com" in opened
        assert workspace.scalar("SELECT count(*) FROM opt_outs") == 0

        pressed = browser.press(links["a@example.com"], "form button")
        assert "그만 받으시겠습니까" in pressed["before"]
        assert "구독이 해지되었습니다" in pressed["after"]
        assert workspace.scalar("SELECT count(*) FROM opt_outs") == 1
        wait_until(
            lambda: any(m["To"] == "ops@example.com" for m in smtp.messages), 10, "the alert"
        )
        (alert,) = [m for m in smtp.messages if m["To"] == "ops@example.com"]
        assert "구독 해지" in str(alert["Subject"]) and "team" in str(alert["Subject"])

        forged = f"{base}/unsubscribe/{'A' * 43}"
        assert answer(forged, "POST") == 403 and answer(forged) == 403
        assert "이 링크로는 구독을 해지할 수 없습니다" in browser.dom(forged)
        assert workspace.scalar("SELECT count(*) FROM opt_outs") == 1

        second = board.add("해지 뒤의 새 글: b에게만")
        wait_until(lambda: got(smtp, "b@example.com", second.title), 15, "b's digest")
        owed_to = workspace.rows(
            "SELECT t.masked FROM deliveries d JOIN targets t ON d.target_id = t.id "
            "JOIN posts p ON d.post_id = p.id WHERE p.key = :key",
            key=str(second.id),
        )
        assert len(owed_to) == 1 and "b@example.com" in owed_to[0][0]  # a was never queued it
        assert got(smtp, "a@example.com", second.title) == 0
        status = browser.dom(base + "/")
        assert "unsubscribed" in status

        listed = workspace.run("subscribers", "--json", check=0).json()
        (entry,) = listed
        left = [t for t in entry["targets"] if t["unsubscribed_at"]]
        assert len(left) == 1 and "a@example.com" in left[0]["target"]
        resumed = workspace.run("subscribers", "--resume", "team", check=0)
        assert "team: resumed 1 target(s)" in resumed.err
        third = board.add("다시 받기로 한 뒤의 새 글")
        wait_until(
            lambda: (
                got(smtp, "a@example.com", third.title) and got(smtp, "b@example.com", third.title)
            ),
            15,
            "both digests again",
        )
        assert got(smtp, "a@example.com", second.title) == 0  # not what came while it was out

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0, log_of(daemon)
        log = log_of(daemon)
    assert [m["To"] for m in smtp.messages].count("ops@example.com") == 1
    assert "구독 해지 (unsubscribed): team" in log and "http: serving" in log
    assert SECRET not in log and all(link.rsplit("/", 1)[1] not in log for link in links.values())
