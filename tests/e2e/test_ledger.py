"""Subscribers, schedules, the delivery ledger and board health, through the real command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.slack import SlackRecorder
from tests.support.workspace import Workspace, esg_config

pytestmark = pytest.mark.filterwarnings("ignore")


def to(smtp: SmtpSink, address: str) -> list[str]:
    """The HTML bodies of the mail that reached `address`."""
    return [m.get_body(("html",)).get_content() for m in smtp.messages if m["To"] == address]


def subscriber(name: str, url: str, **keys: object) -> str:
    lines = [f'\n[[subscribers]]\nname = "{name}"\nurls = ["{url}"]']
    lines += [
        f"{key} = {value!r}".replace("'", '"').replace("True", "true").replace("False", "false")
        for key, value in keys.items()
    ]
    return "\n".join(lines) + "\n"


def test_board_outage_alerts_once_delivers_everything_after_and_reports_recovery_once(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    notify = f'[notify]\nadmin_urls = ["{smtp.url("admin@example.com")}"]\nfailure_threshold = 2\n'
    workspace.write(esg_config(board_server, urls=[smtp.url("team@example.com")], extra=notify))
    workspace.run("once", check=0)
    board.failures["list"] = 503
    during = [board.add(f"장애 중 게시글 {i}") for i in range(3)]
    codes = [workspace.run("once").code for _ in range(3)]
    assert codes == [1, 1, 1]
    alerts = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    assert (
        len(alerts) == 1
        and "ESG 정책뉴스" in alerts[0]["Subject"]
        and "failing" in alerts[0]["Subject"]
    )
    assert "503" in alerts[0].get_body(("plain",)).get_content()
    (status,) = workspace.run("status", "--json").json()["boards"]
    assert status["last_result"] == "error" and status["fail_streak"] == 3
    del board.failures["list"]
    workspace.run("once", check=0)
    workspace.run("once", check=0)
    alerts = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    assert len(alerts) == 2 and "recovered" in alerts[1]["Subject"]
    (digest,) = to(smtp, "team@example.com")
    assert all(post.title in digest for post in during)


def test_keyword_subscriber_receives_only_matching_posts(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    subs = subscriber(
        "carbon",
        smtp.url("carbon@example.com"),
        keywords=["탄소", "hydrogen"],
        exclude_keywords=["채용"],
    )
    subs += subscriber("all", smtp.url("all@example.com"))
    workspace.write(esg_config(board_server, urls=[], subscribers=subs))
    workspace.run("once", check=0)
    board.add("탄소중립 산업 전환 지원")
    board.add("Green HYDROGEN 수출 협력")
    board.add("탄소 분야 채용 공고")
    board.add("폭염 대비 안전 점검")
    workspace.run("once", check=0)
    (carbon,) = to(smtp, "carbon@example.com")
    assert "탄소중립 산업 전환 지원" in carbon and "Green HYDROGEN 수출 협력" in carbon
    assert "채용" not in carbon and "폭염" not in carbon
    (everything,) = to(smtp, "all@example.com")
    assert all(t in everything for t in ("탄소중립", "HYDROGEN", "채용", "폭염"))


def test_daily_cron_subscriber_gets_one_digest_after_the_fire_time_and_nothing_before(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    subs = subscriber("daily", smtp.url("daily@example.com"), digest="0 9 * * *")
    subs += subscriber("now", smtp.url("now@example.com"))
    workspace.write(esg_config(board_server, urls=[], subscribers=subs))
    workspace.run("once", check=0)
    first, second = board.add("아침 전 게시글 1"), board.add("아침 전 게시글 2")
    workspace.run("once", check=0)
    assert to(smtp, "daily@example.com") == [] and len(to(smtp, "now@example.com")) == 1
    pending = {
        s["name"]: s["pending"] for s in workspace.run("status", "--json").json()["subscribers"]
    }
    assert pending["daily"] == 2
    # Time passes: the subscriber was last served the day before yesterday, so 09:00 has fired.
    long_ago = (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None)
    workspace.sql("UPDATE subscribers SET first_seen = :at WHERE name = 'daily'", at=long_ago)
    third = board.add("아침 이후 게시글")
    workspace.run("once", check=0)
    (digest,) = to(smtp, "daily@example.com")
    assert all(p.title in digest for p in (first, second, third))
    board.add("다음 날까지 기다릴 게시글")
    workspace.run("once", check=0)
    assert len(to(smtp, "daily@example.com")) == 1  # the next fire time has not come


def test_retitled_post_reaches_the_include_updates_subscriber_only(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    subs = subscriber("updates", smtp.url("updates@example.com"), include_updates=True)
    subs += subscriber("plain", smtp.url("plain@example.com"))
    workspace.write(esg_config(board_server, urls=[], subscribers=subs))
    workspace.run("once", check=0)
    post = board.posts[3]
    old = post.title
    board.retitle(post.id, "제목이 바뀐 게시글")
    workspace.run("once", check=0)
    workspace.run("once", check=0)
    assert to(smtp, "plain@example.com") == []
    (mail,) = [m for m in smtp.messages if m["To"] == "updates@example.com"]
    assert mail["Subject"] == "[ESG 정책뉴스] 수정 1건"
    html = mail.get_body(("html",)).get_content()
    assert "수정된 글" in html and "제목이 바뀐 게시글" in html and old in html


def test_subscriber_added_later_receives_no_history(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    early = subscriber("early", smtp.url("early@example.com"))
    workspace.write(esg_config(board_server, urls=[], subscribers=early))
    workspace.run("once", check=0)
    before = board.add("새 구독자 전 게시글")
    workspace.run("once", "--no-notify", check=0)
    late = subscriber("late", smtp.url("late@example.com"))
    workspace.write(esg_config(board_server, urls=[], subscribers=early + late))
    after = board.add("새 구독자 후 게시글")
    workspace.run("once", check=0)
    (late_mail,) = to(smtp, "late@example.com")
    assert after.title in late_mail and before.title not in late_mail
    (early_mail,) = to(smtp, "early@example.com")
    assert after.title in early_mail and before.title in early_mail


def test_failing_target_is_retried_by_every_run_alerts_once_and_recovers(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
) -> None:
    notify = f'[notify]\nadmin_urls = ["{slack.url("ops")}"]\nfailure_threshold = 2\n'
    workspace.write(esg_config(board_server, urls=[smtp.url("team@example.com")], extra=notify))
    workspace.run("once", check=0)
    post = board.add("전송 실패 중 게시글")
    smtp.fail_with = "451 4.3.0 Try again later"
    for _ in range(3):  # every run someone starts tries the target again, backoff or not
        failed = workspace.run("-q", "once")
        assert failed.code == 1 and "sub0" in failed.err and "451" in failed.err
    assert (
        len(slack.requests) == 1
        and "delivery failing" in slack.requests[0].json()["attachments"][0]["title"]
    )
    status = workspace.run("status").out
    assert "refused 3 time(s) in a row; the daemon waits until" in status
    smtp.fail_with = None
    workspace.run("once", check=0)  # the mail server is fixed: the next run delivers
    (mail,) = to(smtp, "team@example.com")
    assert post.title in mail
    assert (
        len(slack.requests) == 2
        and "recovered" in slack.requests[1].json()["attachments"][0]["title"]
    )
    status = workspace.run("status", "--json").json()["subscribers"][0]
    assert status["pending"] == 0 and status["last_error"] is None and status["last_delivered_at"]
    assert status["failing"] == []


def test_status_json_matches_the_spec(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    empty = workspace.run("status", "--json", check=0).json()
    assert empty["boards"][0]["last_run_at"] is None and empty["boards"][0]["last_result"] is None
    workspace.run("once", check=0)
    board.add("상태 확인용 게시글")
    workspace.run("once", "--no-notify", check=0)
    data = workspace.run("status", "--json", check=0).json()
    (b,) = data["boards"]
    assert {"name", "last_run_at", "last_result", "error", "posts"} <= set(b)
    assert (b["name"], b["last_result"], b["error"], b["posts"]) == ("esg", "ok", None, 203)
    assert datetime.fromisoformat(b["last_run_at"]).utcoffset() == timedelta(hours=9)
    (s,) = data["subscribers"]
    assert {"name", "pending", "last_delivered_at", "last_error"} <= set(s)
    assert (s["name"], s["pending"], s["last_delivered_at"], s["last_error"]) == (
        "sub0",
        1,
        None,
        None,
    )


def test_digest_preview_prints_without_sending_or_marking(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    post = board.add("미리보기 게시글")
    workspace.run("once", "--no-notify", check=0)
    preview = workspace.run("digest", "--preview", check=0)
    assert post.title in preview.out and "[ESG 정책뉴스] 새 글 1건" in preview.out
    assert smtp.messages == []
    workspace.run("digest", check=0)
    assert len(smtp.messages) == 1
    assert "nothing pending" in workspace.run("digest", "--preview", check=0).out


def test_notify_test_reports_each_target(
    workspace: Workspace, board_server: BoardServer, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    subs = subscriber("team", smtp.url()).replace('urls = ["', f'urls = ["{slack.url()}", "')
    workspace.write(esg_config(board_server, urls=[], subscribers=subs))
    ok = workspace.run("notify-test", check=0)
    assert ok.out.count("\tok") == 2 and len(smtp.messages) == 1 and len(slack.requests) == 1
    slack.status = 500
    failed = workspace.run("notify-test")
    assert failed.code == 1 and "slack://T...1/B...2/x...3/#alerts/?verify=no\tFAILED" in failed.out
    assert "xoxSECRET" not in failed.all and "s3cretPW" not in failed.all


def test_an_admin_alert_that_cannot_be_delivered_makes_the_run_fail(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    notify = f'[notify]\nadmin_urls = ["{smtp.url("admin@example.com")}"]\nfailure_threshold = 1\n'
    workspace.write(esg_config(board_server, urls=[], extra=notify))
    workspace.run("once", check=0)
    board.failures["list"] = 503
    assert workspace.run("once").code == 1  # the board fails; its alert goes out
    del board.failures["list"]
    smtp.fail_with = "451 4.3.0 Try again later"
    recovered = workspace.run("once")  # the board is fine, but nobody heard of its recovery
    assert recovered.code == 1 and "admin alert to mailto://bw:****@" in recovered.err
