"""What a digest carries so its reader can leave, as a real SMTP server receives it: with
`[http] public_url`, each email target its own one-click link (RFC 8058 headers, a visible
구독 해지 link in the HTML and the text part); without, a mailto: to the first admin; Slack no
header, and the operator's hint only if set. A target that left gets nothing more; the
subscriber's other target gets everything; `--resume` brings it back for what comes next."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from notify.masking import identity, mask_url
from notify.unsubscribe import token
from scheduler.config import HttpConfig
from scheduler.context import Context, load_context
from scheduler.delivery import deliver
from storage import optouts, runs
from tests.scheduler.desk import Desk, subscriber
from tests.support.cli import scrape
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.slack import SlackRecorder
from tests.support.workspace import Workspace

SECRET = "a-test-secret-of-32-characters!!"
PUBLIC = "https://boards.example.org/boardwatch"
NEWS = ("탄소중립 산업 전환 지원", "수소차 의전차로 도입")


def part(mail: EmailMessage, kind: str) -> str:
    body = mail.get_body((kind,))
    assert body is not None
    return str(body.get_content())


def by_recipient(smtp: SmtpSink, n: int) -> dict[str, EmailMessage]:
    return {str(m["To"]): m for m in smtp.wait_for(n)}


def raw_lines(smtp: SmtpSink, name: str) -> list[bytes]:
    """The header lines named `name` of every message as it came over the wire, unfolded or not."""
    return [
        line
        for raw in smtp.raw
        for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if line.lower().startswith(name.lower().encode() + b":")
    ]


def test_each_email_target_gets_its_own_one_click_link_in_its_headers_and_bodies(
    desk: Desk, smtp: SmtpSink
) -> None:
    a, b = smtp.url("a@example.com"), smtp.url("b@example.com")
    ctx = desk.context(
        [subscriber("team", a, b)], http=HttpConfig(public_url=PUBLIC + "/", secret=SECRET)
    )
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    mails = by_recipient(smtp, 2)
    links = {}
    for to, url in (("a@example.com", a), ("b@example.com", b)):
        link = f"{PUBLIC}/unsubscribe/{token(SECRET, 'team', identity(url))}"
        mail = mails[to]
        assert mail["List-Unsubscribe"] == f"<{link}>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f'<a href="{link}"' in part(mail, "html") and "구독 해지" in part(mail, "html")
        text = part(mail, "plain")  # the alternative mail programs show without HTML
        assert "구독 해지" in text and link in text
        links[to] = link
    assert links["a@example.com"] != links["b@example.com"]
    lines = raw_lines(smtp, "List-Unsubscribe")
    assert len(lines) == 2 and all(line.endswith(b">") and len(line) <= 998 for line in lines)


def test_a_public_url_as_long_as_allowed_still_fits_one_header_line(
    desk: Desk, smtp: SmtpSink
) -> None:
    public = "https://boards.example.org/" + "p" * (900 - len("https://boards.example.org/"))
    ctx = desk.context(
        [subscriber("team", smtp.url())], http=HttpConfig(public_url=public, secret=SECRET)
    )
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    (mail,) = smtp.wait_for(1)
    assert (
        mail["List-Unsubscribe"]
        == f"<{public}/unsubscribe/{token(SECRET, 'team', identity(smtp.url()))}>"
    )
    (line,) = raw_lines(smtp, "List-Unsubscribe")  # on one line: not folded, not encoded
    assert 900 < len(line) <= 998 and line.startswith(b"List-Unsubscribe: <https://")


def test_without_a_public_url_the_digest_asks_the_first_admin_by_mail(
    desk: Desk, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    admins = [smtp.url("ops@example.com"), slack.url("ops")]
    ctx = desk.context([subscriber("team", smtp.url("a@example.com"))], admin_urls=admins)
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    (mail,) = smtp.wait_for(1)
    assert mail["List-Unsubscribe"] == "<mailto:ops@example.com?subject=unsubscribe:team>"
    assert mail["List-Unsubscribe-Post"] is None  # one-click needs a page to post to
    assert "mailto:ops@example.com" in part(mail, "plain")


def test_without_a_public_url_nor_an_email_admin_a_digest_carries_no_unsubscribe(
    desk: Desk, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    ctx = desk.context([subscriber("team", smtp.url())], admin_urls=[slack.url("ops")])
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    (mail,) = smtp.wait_for(1)
    assert mail["List-Unsubscribe"] is None and "구독 해지" not in part(mail, "html")


@pytest.mark.parametrize("hint", ["", "구독 해지: ops@example.org 로 알려 주세요"])
def test_slack_digests_carry_no_header_and_the_operators_hint_only_when_set(
    desk: Desk, slack: SlackRecorder, monkeypatch: pytest.MonkeyPatch, hint: str
) -> None:
    for name, value in slack.env().items():
        monkeypatch.setenv(name, value)
    http = HttpConfig(public_url=PUBLIC, secret=SECRET, leave_hint=hint)
    ctx = desk.context([subscriber("team", slack.url("news"))], http=http)
    desk.publish(ctx, *NEWS)
    (report,) = deliver(ctx, spaced=False)
    assert report.error is None
    (posted,) = slack.wait_for(1)
    text = str(posted.json())
    assert "unsubscribe" not in text and not any("unsubscribe" in h for h in posted.headers)
    assert (hint in text) if hint else ("구독 해지" not in text)


def leave(ctx: Context, url: str) -> None:
    """The target `url` of `team` leaves, as its link's POST records it."""
    with ctx.store.write() as session:
        (target,) = [t for t in optouts.reachable(session) if t.identity == identity(url)]
        assert optouts.leave(session, target, datetime.now(UTC))


TITLES = ("첫 글", "떠난 뒤의 글", "빠졌다 돌아온 동안의 글", "다시 받기로 한 뒤의 글")


def titles(mail: EmailMessage) -> list[str]:
    return [title for title in TITLES if title in part(mail, "html")]


def test_a_target_that_left_gets_nothing_more_and_the_other_target_everything(
    desk: Desk, smtp: SmtpSink
) -> None:
    a, b = smtp.url("a@example.com"), smtp.url("b@example.com")
    http = HttpConfig(public_url=PUBLIC, secret=SECRET)
    ctx = desk.context([subscriber("team", a, b)], http=http)
    desk.publish(ctx, TITLES[0])
    leave(ctx, a)  # before its digest went out: what it was owed is dropped too
    deliver(ctx, spaced=False)
    desk.publish(ctx, TITLES[1])
    deliver(ctx, spaced=False)
    with ctx.store.read() as session:
        (team,) = runs.status(session)["subscribers"]
    assert team["pending"] == 0
    assert [x["target"] for x in team["unsubscribed"]] == [mask_url(a)]

    desk.context([subscriber("team", b)], http=http)  # a taken out of the config …
    desk.publish(ctx, TITLES[2])  # … b owes this, and a joining target inherits what is owed …
    ctx = desk.context([subscriber("team", a, b)], http=http)  # … but a, put back, is still out
    deliver(ctx, spaced=False)
    assert [(m["To"], titles(m)) for m in smtp.messages] == [
        ("b@example.com", [TITLES[0]]),
        ("b@example.com", [TITLES[1]]),
        ("b@example.com", [TITLES[2]]),
    ]

    with ctx.store.write() as session:
        assert [x.target for x in optouts.resume(session, "team")] == [mask_url(a)]
    desk.publish(ctx, TITLES[3])
    deliver(ctx, spaced=False)  # from now on, not what came while it was out
    assert sorted((m["To"], titles(m)) for m in smtp.messages[3:]) == [
        ("a@example.com", [TITLES[3]]),
        ("b@example.com", [TITLES[3]]),
    ]


def test_subscribers_lists_who_left_and_resume_undoes_it(
    tmp_path: Path,
    smtp: SmtpSink,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = smtp.url("a@example.com"), smtp.url("b@example.com")
    ws = Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")
    ws.write(
        '[[boards]]\nname = "esg"\nurl = "http://127.0.0.1:9/list"\n'
        f'[[subscribers]]\nname = "team"\nurls = ["{a}", "{b}"]\nkeywords = ["탄소"]\n'
        f'[http]\npublic_url = "{PUBLIC}"\nsecret = "{SECRET}"\n'
    )
    scrape(ws, capsys, monkeypatch, "digest")  # the store learns the config
    ctx = load_context(str(ws.config))
    leave(ctx, a)
    shown = scrape(ws, capsys, monkeypatch, "subscribers")
    assert shown.code == 0 and PASSWORD not in shown.out
    assert shown.out.splitlines()[0] == (
        "subscriber team: 0 pending; boards every board; keywords 탄소; digest immediate"
    )
    assert f"  {mask_url(a)}  unsubscribed " in shown.out and f"  {mask_url(b)}\n" in shown.out
    status = scrape(ws, capsys, monkeypatch, "status").out
    assert f"target {mask_url(a)}: unsubscribed" in status and "--resume team" in status
    (team,) = scrape(ws, capsys, monkeypatch, "status", "--json").json()["subscribers"]
    assert [x["target"] for x in team["unsubscribed"]] == [mask_url(a)]

    unknown = scrape(ws, capsys, monkeypatch, "subscribers", "--resume", "nobody")
    assert unknown.code == 2 and "no subscriber named 'nobody'" in unknown.err
    resumed = scrape(ws, capsys, monkeypatch, "subscribers", "--resume", "team")
    assert resumed.code == 0 and resumed.out.startswith(f"team\t{mask_url(a)}\tgets digests again")
    listed = scrape(ws, capsys, monkeypatch, "subscribers", "--json").json()
    assert [t["unsubscribed_at"] for t in listed[0]["targets"]] == [None, None]
    assert listed[0]["opt_outs"] == [] and listed[0]["keywords"] == ["탄소"]


def test_a_token_never_reaches_the_log_even_in_apprises_debug_lines() -> None:
    from scheduler.ops.logs import SECRETS

    code = token(SECRET, "team", identity("mailto://bw:pw@smtp.example.com?to=a@example.com"))
    for line in (
        f"digest link: {PUBLIC}/unsubscribe/{code}",
        "Loaded E-Mail URL: mailto://bw:****@smtp.example.com/?%2BList-Unsubscribe="
        f"%3Chttps%3A%2F%2Fboards.example.org%2Fboardwatch%2Funsubscribe%2F{code}%3E",
    ):
        masked = SECRETS.mask(line)
        assert code not in masked and "unsubscribe" in masked.lower()
