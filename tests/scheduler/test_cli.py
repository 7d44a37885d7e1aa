"""What the command prints when something it did not expect goes wrong: one line saying what
failed — no SQL text, no traceback — unless `-v` asks for the detail."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from notify.errors import DeliveryError
from scheduler import cli
from scheduler.config.arguments import parse, parser
from scheduler.delivery import DeliveryReport
from scheduler.ops.progress import Progress
from scheduler.policy.verdict import CrawlReport
from tests.support.cli import scrape
from tests.support.workspace import Workspace

STATEMENT = "INSERT INTO boards (name, title) VALUES (%(name)s, %(title)s) RETURNING boards.id"


def duplicate(_: argparse.Namespace) -> int:
    cause = Exception(
        'duplicate key value violates unique constraint "boards_name_key"\n'
        "DETAIL:  Key (name)=(esg) already exists."
    )
    raise IntegrityError(STATEMENT, {"name": "esg", "title": "ESG"}, cause)


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setitem(cli.COMMANDS, "posts", duplicate)
    return Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")


@pytest.mark.parametrize("quiet", [(), ("-q",)])
def test_an_unexpected_database_error_is_one_line_without_sql(
    failing: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    quiet: tuple[str, ...],
) -> None:
    result = scrape(failing, capsys, monkeypatch, *quiet, "posts")
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert "IntegrityError" in line and "boards_name_key" in line and "-v" in line
    assert "INSERT" not in result.err and "[SQL" not in result.err and "DETAIL" not in result.err


def test_verbose_shows_the_traceback(
    failing: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = scrape(failing, capsys, monkeypatch, "-v", "posts")
    assert result.code == 1 and "Traceback" in result.err


BOARDS = """
[[boards]]
name = "esg"
url = "http://127.0.0.1:9/bbs/board.php?page=1"

[[subscribers]]
name = "team"
urls = ["mailto://127.0.0.1:9?from=bw@example.com&to=a@example.com"]
"""


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (("posts", "--board", "nope"), "--board: no board named 'nope' (the config has: esg)"),
        (("once", "--board", "nope"), "--board: no board named 'nope' (the config has: esg)"),
        (
            ("digest", "--preview", "--subscriber", "nope"),
            "--subscriber: no subscriber named 'nope' (the config has: team)",
        ),
        (
            ("digest", "--subscriber", "nope"),
            "--subscriber: no subscriber named 'nope' (the config has: team)",
        ),
        (
            ("notify-test", "--subscriber", "nope"),
            "--subscriber: no subscriber named 'nope' (the config has: team)",
        ),
    ],
)
def test_a_name_the_config_does_not_have_is_a_usage_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    named: str,
) -> None:
    ws = Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")
    ws.write(BOARDS)
    result = scrape(ws, capsys, monkeypatch, *command)
    assert result.code == 2 and result.out == ""
    assert f"usage error: {ws.config}: {named}" in result.err


def interrupted(_: argparse.Namespace) -> int:
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", ["status", "posts", "check"])
def test_ctrl_c_exits_130_saying_what_was_committed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    ws = Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")
    monkeypatch.setitem(cli.COMMANDS, command, interrupted)
    result = scrape(ws, capsys, monkeypatch, command)
    assert result.code == 130
    assert result.err.strip().splitlines() == ["interrupted: nothing was changed"]


def crawled(board: str, interrupted: bool = False) -> CrawlReport:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return CrawlReport(
        board=board, started_at=at, finished_at=at, seconds=0.1, interrupted=interrupted
    )


def sent(error: str | None = None) -> DeliveryReport:
    refused = DeliveryError("mailto://…", error) if error else None
    return DeliveryReport(subscriber="team", target="mailto://…", entries=2, error=refused)


# What Ctrl-C leaves said: the progress a command made, and the line that tells of it.
PROGRESS = [
    ("once, before any board ended", {"boards": 3, "sending": "later"}, [], []),
    ("once, a board stored", {"boards": 3, "sending": "later"}, ["a"], []),
    ("once --no-notify, all stored", {"boards": 2}, ["a", "b"], []),
    ("once, sending", {"boards": 2, "sending": "now"}, ["a", "b"], [None, "refused", None]),
    ("digest, sending", {"sending": "now"}, [], ["refused"]),
    ("a read-only command", {}, [], []),
    ("init", {"wrote": ["wrote scrape.toml"]}, [], []),
]
SAID = [
    "interrupted: no board crawled yet (of 3), nothing stored; no digest sent",
    "interrupted: 1 of 3 board(s) crawled, what they found stored (the next run crawls the "
    "rest); no digest sent",
    "interrupted: 2 of 2 board(s) crawled, what they found stored",
    "interrupted: 2 of 2 board(s) crawled, what they found stored; 2 digest(s) delivered and "
    "recorded; the rest stay queued (a digest being sent as you stopped may come again)",
    "interrupted: no digest delivered yet; the rest stay queued (a digest being sent as you "
    "stopped may come again)",
    "interrupted: nothing was changed",
    "interrupted: wrote scrape.toml",
]


@pytest.mark.parametrize(
    ("made", "boards", "digests", "said"),
    [(*case[1:], said) for case, said in zip(PROGRESS, SAID, strict=True)],
    ids=[case[0] for case in PROGRESS],
)
def test_what_an_interrupted_command_says_it_committed(
    made: dict[str, Any], boards: list[str], digests: list[str | None], said: str
) -> None:
    progress = Progress(**made)
    for board in boards:
        progress.board_done(crawled(board))
    progress.board_done(crawled("cut", interrupted=True))  # a walk a stop cut short: not stored
    for error in digests:
        progress.digest_done(sent(error))
    assert progress.interrupted() == said


# The global options, before the command or after it: what each command line means.
GLOBALS = [
    (["once"], (None, 0, False, "text")),
    (["once", "-q"], (None, 0, True, "text")),
    (["-q", "once"], (None, 0, True, "text")),
    (["once", "--config", "b.toml", "-vv", "--log-format", "json"], ("b.toml", 2, False, "json")),
    (
        ["--config", "a.toml", "-v", "once", "--config", "b.toml", "-v"],
        ("b.toml", 2, False, "text"),
    ),
    (["--log-format", "json", "status", "--json", "-q"], (None, 0, True, "json")),
    (["probe", "https://example.kr/", "--config", "c.toml"], ("c.toml", 0, False, "text")),
]


@pytest.mark.parametrize(("argv", "meant"), GLOBALS, ids=[" ".join(a) for a, _ in GLOBALS])
def test_global_options_are_accepted_after_the_command_too(
    argv: list[str], meant: tuple[str | None, int, bool, str]
) -> None:
    args = parse(argv)
    assert (args.config, args.verbose, args.quiet, args.log_format) == meant


def test_a_config_named_after_the_command_is_the_one_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")
    other = tmp_path / "other.toml"
    other.write_text(BOARDS.replace('"esg"', '"elsewhere"'), encoding="utf-8")
    result = scrape(ws, capsys, monkeypatch, "status", "--config", str(other), "-q")
    assert result.code == 0, result.err
    assert result.out.startswith("board elsewhere:")


COMMAND_NAMES = [
    "init",
    "check",
    "once",
    "run",
    "status",
    "posts",
    "probe",
    "digest",
    "notify-test",
]


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_every_option_says_what_it_does_and_the_help_ends_with_an_example(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    top = parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    command = commands.choices[name]
    for action in [*top._actions, *command._actions]:
        assert action.help, f"{name}: {action.option_strings or action.dest} says nothing"
    with pytest.raises(SystemExit) as done:
        cli.main([name, "--help"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-2] == "example:" and lines[-1].startswith("  scrape "), lines[-2:]
    assert f" {name}" in lines[-1]


def test_posts_limit_0_is_all_and_a_negative_limit_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse(["posts", "--limit", "0"]).limit == 0  # storage.posts.listing: 0 is no limit
    with pytest.raises(SystemExit) as refused:
        parse(["posts", "--limit", "-1"])
    assert refused.value.code == 2
    assert "'-1' is not a count: 0 (all) or more" in capsys.readouterr().err


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_completion_script_is_printed_from_the_parser(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--print-completion", shell])
    assert done.value.code == 0
    script = capsys.readouterr().out
    assert all(name in script for name in COMMAND_NAMES)
    assert "--no-notify" in script and "--subscriber" in script and "--log-format" in script
