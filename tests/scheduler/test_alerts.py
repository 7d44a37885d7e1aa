"""Admin alerts reach every `[notify] admin_urls` target; one that refuses is reported, masked,
and the others still get the alert."""

from __future__ import annotations

import logging

import pytest

from notify.masking import mask_url
from notify.views import BoardAlert
from scheduler.delivery import send_alert
from tests.scheduler.desk import Desk, subscriber
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.slack import TOKENS, SlackRecorder

FAILING: BoardAlert = {
    "kind": "failing",
    "board": "esg",
    "title": "ESG 정책뉴스",
    "error": "list page failed: HTTP 503",
    "streak": 3,
}
TITLE = "[boardwatch] ESG 정책뉴스: 수집 실패 (failing)"


def test_an_alert_goes_to_every_admin_target(
    desk: Desk, smtp: SmtpSink, slack: SlackRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in slack.env().items():
        monkeypatch.setenv(name, value)
    admins = [smtp.url("ops@example.com"), smtp.url("oncall@example.com"), slack.url("ops")]
    ctx = desk.context([subscriber("team", smtp.url())], admins)
    assert send_alert(ctx, FAILING) == []
    mails = smtp.wait_for(2)
    assert sorted(m["To"] for m in mails) == ["oncall@example.com", "ops@example.com"]
    assert all(m["Subject"] == TITLE for m in mails)
    assert "HTTP 503" in mails[0].get_body(("plain",)).get_content()
    (posted,) = slack.wait_for(1)
    (attachment,) = posted.json()["attachments"]
    assert attachment["title"] == TITLE and "HTTP 503" in attachment["text"]
    assert not [m for m in smtp.messages if m["To"] == "team@example.com"]  # admins only


def test_a_refusing_admin_target_is_reported_masked_and_the_others_still_get_it(
    desk: Desk, smtp: SmtpSink, refusing: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    down = refusing.url("ops@example.com")
    ctx = desk.context([subscriber("team", smtp.url())], [down, smtp.url("oncall@example.com")])
    with caplog.at_level(logging.WARNING, logger="boardwatch"):
        (refused,) = send_alert(ctx, FAILING)
    (mail,) = smtp.wait_for(1)
    error = refused.shown()  # what an operator reads: the masked target, the cause, what to do
    assert mail["To"] == "oncall@example.com" and mail["Subject"] == TITLE
    assert error.startswith(f"{mask_url(down)}: ") and "451" in error
    assert PASSWORD not in error and PASSWORD not in caplog.text
    assert f"admin alert to {mask_url(down)} failed" in caplog.text
    assert TITLE in caplog.text  # the alert is in the log whether or not a target took it


def test_with_no_admin_targets_the_alert_is_only_logged(
    desk: Desk, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = desk.context([subscriber("team", smtp.url())])
    with caplog.at_level(logging.WARNING, logger="boardwatch"):
        assert send_alert(ctx, FAILING) == []
    assert TITLE in caplog.text and smtp.messages == []


def test_slack_secrets_never_reach_the_report(
    desk: Desk, smtp: SmtpSink, slack: SlackRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in slack.env().items():
        monkeypatch.setenv(name, value)
    slack.status = 500
    ctx = desk.context([subscriber("team", smtp.url())], [slack.url("ops"), smtp.url("a@b.kr")])
    error = send_alert(ctx, FAILING)[0].shown()
    assert "500" in error and not any(token in error for token in TOKENS[1:])
    assert [m["To"] for m in smtp.wait_for(1)] == ["a@b.kr"]
