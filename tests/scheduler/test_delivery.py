"""Delivery: each target is sent its own digest and only what a target accepted is marked; a
refusing target keeps what it owes, is tried again (at once by a run, after a pause by the
daemon) and is reported to the admins, masked."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import update

from notify.masking import mask_url
from scheduler.context import Context
from scheduler.delivery import deliver
from storage import ledger, runs
from storage.models import Target
from tests.scheduler.desk import Desk, subscriber
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.slack import SlackRecorder

NEWS = ("탄소중립 산업 전환 지원", "수소차 의전차로 도입")


def owed(ctx: Context) -> dict[str, list[str]]:
    """Each target's (masked) undelivered post titles."""
    with ctx.store.read() as session:
        return {b.masked: [e["title"] for e in b.entries] for b in ledger.pending(session)}


def html(mail: EmailMessage) -> str:
    body = mail.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def test_each_target_gets_its_own_digest_and_everything_is_marked(
    desk: Desk, smtp: SmtpSink, slack: SlackRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in slack.env().items():
        monkeypatch.setenv(name, value)
    ctx = desk.context([subscriber("team", smtp.url(), slack.url("news"))])
    desk.publish(ctx, *NEWS)
    reports = deliver(ctx, spaced=False)
    assert sorted((r.target, r.entries, r.error) for r in reports) == sorted(
        [(mask_url(smtp.url()), 2, None), (mask_url(slack.url("news")), 2, None)]
    )
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"] == "[ESG 정책뉴스] 새 글 2건" and all(t in html(mail) for t in NEWS)
    (posted,) = slack.wait_for(1)
    assert all(title in str(posted.json()) for title in NEWS)
    assert owed(ctx) == {}
    assert deliver(ctx, spaced=False) == [] and len(smtp.messages) == 1  # nothing sent twice


def test_a_refusing_target_keeps_its_entries_and_the_others_are_marked(
    desk: Desk, smtp: SmtpSink, refusing: SmtpSink
) -> None:
    down = refusing.url("team@example.com")
    ctx = desk.context([subscriber("team", down, smtp.url("team@example.com"))])
    desk.publish(ctx, *NEWS)
    reports = {r.target: r for r in deliver(ctx, spaced=False)}
    assert reports[mask_url(smtp.url("team@example.com"))].error is None
    failed = reports[mask_url(down)]
    assert failed.error is not None
    said = failed.error.shown()
    assert "451" in said and PASSWORD not in said
    assert len(smtp.wait_for(1)) == 1
    assert owed(ctx) == {mask_url(down): list(reversed(NEWS))}
    with ctx.store.read() as session:
        (team,) = runs.status(session)["subscribers"]
    assert team["pending"] == 2 and [t["target"] for t in team["failing"]] == [mask_url(down)]
    assert team["last_error"] and "451" in team["last_error"] and PASSWORD not in team["last_error"]


def test_a_run_tries_a_refusing_target_again_at_once_and_marks_it_once_it_accepts(
    desk: Desk, refusing: SmtpSink
) -> None:
    ctx = desk.context([subscriber("team", refusing.url())])
    desk.publish(ctx, *NEWS)
    for _ in range(3):  # `scrape once` never waits out a pause
        (report,) = deliver(ctx, spaced=False)
        assert report.error is not None and report.entries == 2
    refusing.fail_with = None
    desk.publish(ctx, "폭염 대비 안전 점검")
    (report,) = deliver(ctx, spaced=False)
    assert report.error is None and report.entries == 3
    (mail,) = refusing.wait_for(1)
    assert mail["Subject"] == "[ESG 정책뉴스] 새 글 3건" and owed(ctx) == {}
    with ctx.store.read() as session:
        (team,) = runs.status(session)["subscribers"]
    assert team["failing"] == [] and team["last_error"] is None


def test_the_daemon_holds_a_target_back_after_its_second_refusal_until_the_pause_is_over(
    desk: Desk, refusing: SmtpSink
) -> None:
    ctx = desk.context([subscriber("team", refusing.url())], retry_backoff="10m")
    desk.publish(ctx, *NEWS)
    (first,) = deliver(ctx, spaced=True)
    (second,) = deliver(ctx, spaced=True)  # the first retry is immediate
    assert first.error and second.error
    assert deliver(ctx, spaced=True) == []  # held for `retry_backoff` after the second
    assert [r.entries for r in deliver(ctx, spaced=False)] == [2]  # a run is not held
    failed_ago(ctx, minutes=11)
    assert deliver(ctx, spaced=True) == []  # after the third, twice as long
    refusing.fail_with = None
    failed_ago(ctx, minutes=21)
    (report,) = deliver(ctx, spaced=True)
    assert report.error is None and owed(ctx) == {}


def failed_ago(ctx: Context, minutes: int) -> None:
    """The targets' last refusal moved back in time, as if the daemon had waited."""
    with ctx.store.write() as session:
        before = ctx.now() - timedelta(minutes=minutes)
        session.execute(update(Target).values(last_failure_at=before))
        session.commit()


def test_owed_entries_are_sent_at_once_whatever_the_digest_schedule(
    desk: Desk, smtp: SmtpSink, refusing: SmtpSink
) -> None:
    never = "0 0 29 2 *"  # a scheduled digest that is not due during the test
    ctx = desk.context([subscriber("team", refusing.url(), digest=never)])
    desk.publish(ctx, *NEWS)
    assert deliver(ctx, spaced=False) == []  # not due: nothing is sent
    ctx = desk.context([subscriber("team", refusing.url())])  # an immediate digest, once
    (report,) = deliver(ctx, spaced=False)
    assert report.error is not None
    refusing.fail_with = None
    ctx = desk.context([subscriber("team", refusing.url(), digest=never)])  # scheduled again
    (report,) = deliver(ctx, spaced=False)  # the refused entries are owed at once
    assert report.error is None and report.entries == 2 and owed(ctx) == {}


def test_a_refusing_target_alerts_the_admins_once_and_again_when_it_recovers(
    desk: Desk, smtp: SmtpSink, refusing: SmtpSink
) -> None:
    down = refusing.url("team@example.com")
    ctx = desk.context(
        [subscriber("team", down)], [smtp.url("ops@example.com")], failure_threshold=2
    )
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    assert smtp.messages == []  # one refusal is not yet an outage
    deliver(ctx, spaced=False)
    deliver(ctx, spaced=False)
    (alert,) = smtp.wait_for(1)
    assert alert["Subject"] == "[boardwatch] 전송 실패 (delivery failing): team"
    text = alert.get_body(("plain",)).get_content()
    assert mask_url(down) in text and PASSWORD not in text
    refusing.fail_with = None
    (report,) = deliver(ctx, spaced=False)
    assert report.error is None and report.alert_errors == ()
    recovered = smtp.wait_for(2)[1]
    assert recovered["Subject"] == "[boardwatch] 전송 복구됨 (delivery recovered): team"


def test_a_long_backlog_goes_in_digests_of_at_most_max_digest_posts(
    desk: Desk, smtp: SmtpSink
) -> None:
    ctx = desk.context([subscriber("team", smtp.url())], max_digest_posts=2)
    titles = [f"공지 {i}" for i in range(5)]
    desk.publish(ctx, *titles)
    assert [r.entries for r in deliver(ctx, spaced=False)] == [2, 2, 1]
    mails = smtp.wait_for(3)
    assert sum(title in html(mail) for mail in mails for title in titles) == 5
    assert owed(ctx) == {}


def test_a_digest_too_large_for_the_target_arrives_in_parts(desk: Desk, smtp: SmtpSink) -> None:
    ctx = desk.context([subscriber("team", smtp.url())])
    titles = [f"{'긴 제목 ' * 30}{i}" for i in range(4)]
    desk.publish(ctx, *titles)
    smtp.max_size = 9000  # a digest of all four is refused
    reports = deliver(ctx, spaced=False)
    assert len(reports) > 1 and all(r.error is None for r in reports)
    assert sum(r.entries for r in reports) == 4 and len(smtp.messages) == len(reports)
    assert sum(title in html(mail) for mail in smtp.messages for title in titles) == 4
    assert owed(ctx) == {}
    # the four were refused once; what was split was those four, not the 50 a digest may hold
    assert len(smtp.refused_sizes) == 1, smtp.refused_sizes
