"""Prove the SMTP sink and Slack recorder work against the real Apprise library."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import apprise
import pytest
import requests

from .mail import SmtpSink
from .slack import SlackRecorder

# verify=no makes urllib3 warn about every request to the fake Slack.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackRecorder]:
    with SlackRecorder() as recorder:
        for key, value in recorder.env().items():
            monkeypatch.setenv(key, value)
        yield recorder


def _notify(url: str, **kwargs: object) -> bool:
    # A fresh Apprise per send: a reused plugin instance sleeps between sends
    # (5.5 s for email, 1.2 s for Slack). notify() returns an AppriseResult,
    # which is truthy/falsy but never == True.
    ap = apprise.Apprise()
    assert ap.add(url), url
    return bool(ap.notify(**kwargs))


# -- email ----------------------------------------------------------------


def test_html_email_arrives_as_multipart_alternative(smtp: SmtpSink) -> None:
    html = "<h1>Digest</h1><p>3 new <b>cards</b></p>"
    assert _notify(
        smtp.url("team@example.com"),
        title="Boardwatch digest",
        body=html,
        body_format=apprise.NotifyFormat.HTML,
    )

    [msg] = smtp.wait_for(1)
    assert msg["Subject"] == "Boardwatch digest"
    assert msg["To"] == "team@example.com"
    assert "boardwatch@example.com" in msg["From"]
    assert msg.get_content_type() == "multipart/alternative"
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    assert "<b>cards</b>" in html_part.get_content()
    text = text_part.get_content()
    assert "3 new cards" in text and "<b>" not in text


def test_text_email_is_single_plain_part(smtp: SmtpSink) -> None:
    assert _notify(smtp.url(), title="t", body="plain *body*", body_format="text")
    [msg] = smtp.wait_for(1)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().strip() == "plain *body*"


def test_password_is_masked_by_apprise_privacy_url(smtp: SmtpSink) -> None:
    ap = apprise.Apprise()
    ap.add(smtp.url())
    private = ap[0].url(privacy=True)
    assert "s3cretPW" in smtp.url() and "s3cretPW" not in private


def test_wrong_password_is_rejected(smtp: SmtpSink) -> None:
    # Proves Apprise really logs in (and the sink really checks credentials).
    assert not _notify(smtp.url().replace("s3cretPW", "wrong"), title="t", body="b")
    assert smtp.messages == []


def test_smtp_failure_is_reported_and_nothing_stored(smtp: SmtpSink) -> None:
    smtp.fail_with = "451 4.3.0 Try again later"
    assert not _notify(smtp.url(), title="t", body="b")
    assert smtp.messages == []

    smtp.fail_with = None  # recovers while running
    assert _notify(smtp.url(), title="t", body="b")
    assert len(smtp.wait_for(1)) == 1
    smtp.clear()
    assert smtp.messages == []


# -- slack ----------------------------------------------------------------


def test_slack_webhook_post_is_recorded(slack: SlackRecorder) -> None:
    assert _notify(
        slack.url("alerts"),
        title="Digest",
        body="3 new cards",
        body_format=apprise.NotifyFormat.TEXT,
    )

    [req] = slack.wait_for(1)
    assert req.method == "POST"
    assert req.host == "hooks.slack.com"
    assert req.path == "/services/T0BWTEST1/B0BWTEST2/xoxSECRETtoken123"
    assert req.headers["content-type"].startswith("application/json")
    payload = req.json()
    assert payload["channel"] == "#alerts"
    assert payload["attachments"][0]["title"] == "Digest"
    assert payload["attachments"][0]["text"] == "3 new cards"


def test_slack_down_is_reported(slack: SlackRecorder) -> None:
    slack.status = 500
    assert not _notify(slack.url(), title="t", body="b")
    assert len(slack.wait_for(1)) == 1


def test_keep_alive_connection_serves_several_requests(
    slack: SlackRecorder,
) -> None:
    url = "https://hooks.slack.com/services/T0BWTEST1/B0BWTEST2/xoxSECRETtoken123"
    with requests.Session() as session:
        for n in range(3):
            response = session.post(url, json={"text": str(n)}, verify=False)
            assert (response.status_code, response.text) == (200, "ok")
    assert [r.json()["text"] for r in slack.wait_for(3)] == ["0", "1", "2"]


def test_slack_from_subprocess(slack: SlackRecorder) -> None:
    code = textwrap.dedent(
        f"""
        import sys, warnings, apprise
        warnings.simplefilter("ignore")
        ap = apprise.Apprise()
        ap.add({slack.url("ops")!r})
        sys.exit(0 if ap.notify(title="From CLI", body="hello from child") else 1)
        """
    )
    env = {**os.environ, **slack.env()}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    [req] = slack.wait_for(1)
    assert req.json()["channel"] == "#ops"
    assert "hello from child" in req.body.decode()
