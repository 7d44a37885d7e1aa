"""The daemon's HTTP port, served in this process on a port the system picks: /metrics as
Prometheus reads it, /healthz (200, or 503 with `status --check`'s reasons), the status page
(board text escaped), unknown paths 404 — and the unsubscribe links: a GET changes nothing, a
POST records the opt-out once and alerts the admins once, a forged token or another secret's is
403 and changes nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from notify.masking import identity, mask_url
from notify.unsubscribe import token
from scheduler.config import HttpConfig
from scheduler.context import Context
from scheduler.delivery import deliver
from scheduler.web.app import App
from scheduler.web.server import Served, serve
from storage import optouts, runs
from tests.scheduler.desk import Desk, subscriber
from tests.support.mail import PASSWORD, SmtpSink

SECRET = "a-test-secret-of-32-characters!!"
PUBLIC = "https://boards.example.org/boardwatch"


@dataclass
class Answer:
    code: int
    headers: dict[str, str]
    text: str


@dataclass
class Port:
    served: Served
    ctx: Context

    def ask(self, path: str, method: str = "GET", body: bytes | None = None) -> Answer:
        url = f"http://127.0.0.1:{self.served.port}{path}"
        request = urllib.request.Request(url, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Answer(answer.status, dict(answer.headers), answer.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read().decode())


@pytest.fixture
def admin() -> Iterator[SmtpSink]:
    """Where the admins' alerts go."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def port(desk: Desk, smtp: SmtpSink, admin: SmtpSink) -> Iterator[Port]:
    ctx = desk.context(
        [subscriber("team", smtp.url("a@example.com"), smtp.url("b@example.com"))],
        admin_urls=[admin.url("ops@example.com")],
        http=HttpConfig(public_url=PUBLIC, secret=SECRET),
    )
    served = serve("127.0.0.1:0", App(lambda: ctx))
    yield Port(served, ctx)
    served.stop()


def link(url: str, secret: str = SECRET, name: str = "team") -> str:
    return f"/unsubscribe/{token(secret, name, identity(url))}"


def left(ctx: Context) -> list[str]:
    with ctx.store.read() as session:
        return [x.target for lefts in optouts.listing(session).values() for x in lefts]


def test_metrics_are_prometheus_text(port: Port, desk: Desk) -> None:
    desk.publish(port.ctx, "새 글")
    answer = port.ask("/metrics")
    assert answer.code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(answer.text)}
    assert {"boardwatch_target_pending_entries", "boardwatch_board_up"} <= names
    assert PASSWORD not in answer.text


def test_healthz_is_503_with_the_reasons_until_all_is_well(port: Port) -> None:
    answer = port.ask("/healthz")
    assert (answer.code, answer.text) == (503, "CRITICAL board esg: never run\n")
    with port.ctx.store.write() as session:
        now = datetime.now(UTC)
        runs.record_runs(
            session,
            [runs.RunRecord(board="esg", started_at=now, finished_at=now, pages=1, new_posts=0)],
            3,
        )
    answer = port.ask("/healthz")
    assert answer.code == 200 and answer.text.startswith("OK 1 board(s) ran on time")


def test_the_status_page_shows_boards_and_subscribers_with_board_text_escaped(
    port: Port, desk: Desk, smtp: SmtpSink
) -> None:
    desk.publish(port.ctx, '<script>alert("x")</script> 탄소 & 수소', "둘째 글")
    deliver(port.ctx, spaced=False)
    page = port.ask("/")
    assert page.code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<script" not in page.text.lower()  # no script of ours, and none of the board's
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 탄소 &amp; 수소" in page.text
    assert 'href="https://esg.example.kr/bbs/board.php?bo_table=esg_news&amp;wr_id=' in page.text
    assert "ESG 정책뉴스" in page.text and "next due" in page.text and "posts stored" in page.text
    assert "team" in page.text and "pending" in page.text and "last delivery" in page.text
    for url in (smtp.url("a@example.com"), smtp.url("b@example.com")):
        assert mask_url(url) in page.text
    assert PASSWORD not in page.text and "unsubscribed" not in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "method", "code"),
    [
        ("/nope", "GET", 404),
        ("/metrics/extra", "GET", 404),
        ("/unsubscribe", "GET", 404),
        ("/", "POST", 405),
        ("/healthz", "DELETE", 405),
        ("/unsubscribe/x", "PUT", 405),
    ],
)
def test_unknown_paths_are_404_and_other_methods_405(
    port: Port, path: str, method: str, code: int
) -> None:
    assert port.ask(path, method, b"" if method != "GET" else None).code == code


def test_opening_an_unsubscribe_link_changes_nothing_and_shows_the_button(
    port: Port, smtp: SmtpSink
) -> None:
    page = port.ask(link(smtp.url("a@example.com")))
    assert page.code == 200 and '<form method="post">' in page.text
    assert "a@example.com" in page.text and "team" in page.text
    assert "127.0.0.1" not in page.text  # its reader's address, not our mail server
    assert left(port.ctx) == [] and port.ask(link(smtp.url("a@example.com")), "HEAD").text == ""
    assert left(port.ctx) == []


def test_a_post_unsubscribes_that_target_only_once_and_tells_the_admins_once(
    port: Port, desk: Desk, smtp: SmtpSink, admin: SmtpSink
) -> None:
    a = smtp.url("a@example.com")
    one_click = port.ask(link(a), "POST", b"List-Unsubscribe=One-Click")
    assert one_click.code == 200 and "구독이 해지되었습니다" in one_click.text
    assert left(port.ctx) == [mask_url(a)]
    (alert,) = admin.wait_for(1)
    assert "구독 해지" in str(alert["Subject"]) and "team" in str(alert["Subject"])
    body = alert.get_body(("plain",))
    assert body is not None and mask_url(a) in body.get_content()
    assert "scrape subscribers --resume team" in body.get_content()
    again = port.ask(link(a), "POST", b"List-Unsubscribe=One-Click")
    assert again.code == 200 and left(port.ctx) == [mask_url(a)] and len(admin.messages) == 1
    assert "구독이 해지되었습니다" in port.ask(link(a)).text  # the page says it is done

    desk.publish(port.ctx, "해지 뒤의 글")
    deliver(port.ctx, spaced=False)
    assert [m["To"] for m in smtp.wait_for(1)] == ["b@example.com"]
    assert "unsubscribed" in port.ask("/").text


@pytest.mark.parametrize(
    "forged",
    [
        "/unsubscribe/" + "A" * 43,
        "/unsubscribe/not-a-token",
        "/unsubscribe/" + token(SECRET, "team", identity("mailto://x@example.com"))[:43],
        "another secret",
        "another subscriber",
    ],
)
def test_a_forged_token_is_refused_with_403_and_changes_nothing(
    port: Port, smtp: SmtpSink, admin: SmtpSink, forged: str
) -> None:
    a = smtp.url("a@example.com")
    path = {
        "another secret": link(a, secret="not-the-secret-of-this-daemon!!!"),
        "another subscriber": link(a, name="others"),
    }.get(forged, forged)
    for method in ("GET", "POST"):
        answer = port.ask(path, method, b"List-Unsubscribe=One-Click" if method == "POST" else None)
        assert answer.code == 403 and "<form" not in answer.text
    assert left(port.ctx) == [] and admin.messages == []


def test_without_a_public_url_there_are_no_unsubscribe_links(desk: Desk, smtp: SmtpSink) -> None:
    ctx = desk.context([subscriber("team", smtp.url())])
    served = serve("127.0.0.1:0", App(lambda: ctx))
    try:
        answer = Port(served, ctx).ask(link(smtp.url()), "POST", b"")
    finally:
        served.stop()
    assert answer.code == 404 and left(ctx) == []
