"""Read-only commands write nothing: whatever the config says and the store holds, `status`,
`posts`, `digest --preview`, `check`, `probe`, `notify-test` and `subscribers` leave every row of
every table as it was — a config that differs from the store is shown as it would be, never
synced."""

from __future__ import annotations

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.cli import scrape
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.slack import TOKENS, SlackRecorder
from tests.support.workspace import Workspace, esg_config

pytestmark = pytest.mark.filterwarnings("ignore")

READ_ONLY = [
    ("status",),
    ("status", "--json"),
    ("status", "--check"),
    ("posts",),
    ("posts", "--json"),
    ("digest", "--preview"),
    ("check",),
    ("notify-test",),
    ("subscribers",),
    ("subscribers", "--json"),
]


def subscriber(name: str, *urls: str) -> str:
    listed = ", ".join(f'"{url}"' for url in urls)
    return f'\n[[subscribers]]\nname = "{name}"\nurls = [{listed}]\n'


def test_read_only_commands_leave_every_table_as_it_was(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mail = smtp.url().replace(PASSWORD, "${SMTP_PASSWORD}")
    workspace.env["SMTP_PASSWORD"] = "wrong-password"
    workspace.write(
        esg_config(board_server, urls=[], subscribers=subscriber("team", mail, slack.url()))
    )
    workspace.run("once", check=0)
    board.add("아직 메일로 가지 못한 글")
    assert workspace.run("-q", "once").code == 1  # posts stored, the email target failing
    # The file moves on: a board and a subscriber added, a target removed, a secret changed.
    second = f'\n[[boards]]\nname = "second"\nurl = "{board_server.list_url}&x=2"\n'
    newcomer = subscriber("newcomer", smtp.url("new@example.com"))
    workspace.write(
        esg_config(board_server, urls=[], extra="", subscribers=subscriber("team", mail) + newcomer)
        + second
    )
    workspace.env["SMTP_PASSWORD"] = "another-wrong-one"
    for command in READ_ONLY:
        before = workspace.dump()
        result = scrape(workspace, capsys, monkeypatch, *command)
        assert result.code in (0, 1), f"{command}: {result.all}"
        assert workspace.dump() == before, f"scrape {' '.join(command)} changed the store"
    before = workspace.dump()
    workspace.run("probe", board_server.list_url, check=0)
    assert workspace.dump() == before


def test_status_shows_the_config_as_it_is_before_any_run_syncs_it(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    board.add("새 글")
    workspace.run("once", "--no-notify", check=0)
    second = f'\n[[boards]]\nname = "second"\nurl = "{board_server.list_url}&x=2"\n'
    newcomer = subscriber("newcomer", smtp.url("new@example.com"))
    workspace.write(esg_config(board_server, urls=[smtp.url()], subscribers=newcomer) + second)
    data = scrape(workspace, capsys, monkeypatch, "status", "--json").json()
    boards = {b["name"]: b for b in data["boards"]}
    assert boards["second"]["last_run_at"] is None and boards["second"]["posts"] == 0
    assert boards["esg"]["last_result"] == "ok" and boards["esg"]["posts"] > 0
    pending = {s["name"]: s["pending"] for s in data["subscribers"]}
    assert pending == {"sub0": 1, "newcomer": 0}
    preview = scrape(workspace, capsys, monkeypatch, "digest", "--preview", "--subscriber", "sub0")
    assert "새 글" in preview.out


def test_commands_that_only_show_need_no_target_secret(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {"SMTP_PASSWORD": PASSWORD, "SLACK_TOKEN": TOKENS[2], "OPS_URL": slack.url("ops")}
    mail = smtp.url().replace(PASSWORD, "${SMTP_PASSWORD}")
    hook = slack.url().replace(TOKENS[2], "${SLACK_TOKEN}")
    workspace.env.update(secrets)
    team, ops = subscriber("team", mail, hook), subscriber("ops", "${OPS_URL}")
    workspace.write(esg_config(board_server, urls=[], subscribers=team + ops))
    workspace.run("once", check=0)
    board.add("비밀 없이도 보이는 글")
    workspace.run("once", "--no-notify", check=0)
    for name in secrets:  # a newcomer's shell: the service's secrets are not in it
        del workspace.env[name]
        monkeypatch.delenv(name, raising=False)
    before = workspace.dump()

    status = scrape(workspace, capsys, monkeypatch, "status", "--json")
    assert status.code == 0, status.err
    subs = {s["name"]: s for s in status.json()["subscribers"]}
    assert {name: s["pending"] for name, s in subs.items()} == {"team": 1, "ops": 1}
    assert subs["team"]["not_set"] == [
        "mailto://… (${SMTP_PASSWORD} not set)",
        "slack://… (${SLACK_TOKEN} not set)",
    ]
    assert subs["ops"]["not_set"] == ["${OPS_URL} not set"]
    text = scrape(workspace, capsys, monkeypatch, "status")
    assert text.code == 0 and "subscriber team: 1 pending" in text.out
    assert "target slack://… (${SLACK_TOKEN} not set): once, run, digest" in text.out
    posts = scrape(workspace, capsys, monkeypatch, "posts")
    assert posts.code == 0 and "비밀 없이도 보이는 글" in posts.out
    preview = scrape(workspace, capsys, monkeypatch, "digest", "--preview")
    assert preview.code == 0 and preview.out.count("비밀 없이도 보이는 글") == 2  # team, ops
    assert "team: target mailto://… (${SMTP_PASSWORD} not set)" in preview.err
    assert workspace.dump() == before
    assert not any(s in r.all for s in (PASSWORD, TOKENS[2]) for r in (status, text, preview))

    for command in (("once",), ("run",), ("digest",), ("notify-test",), ("check",)):
        refused = scrape(workspace, capsys, monkeypatch, *command)
        assert refused.code == 2, command
        assert "environment variable ${SMTP_PASSWORD} is not set" in refused.err, command
    assert workspace.dump() == before
