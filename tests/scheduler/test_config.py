"""Bad configuration: exit 2 with the file, the key and the reason; secrets never shown."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import pytest

from scheduler import config
from scheduler.config import file as config_file
from scraper import profiles
from tests.support.cli import scrape
from tests.support.workspace import Workspace

GOOD_BOARD = """
[crawl]
retries = 0

[[boards]]
name = "esg"
url = "http://127.0.0.1:9/bbs/board.php?page=1"
"""
SECRET_SUB = """
[[subscribers]]
name = "team"
urls = ["mailto://bw:hunter2SECRET@127.0.0.1:9?from=bw@example.com&to=a@example.com"]
"""

CASES = [
    ("broken TOML", "timezone = \n", "", "not valid TOML"),
    (
        "unknown profile",
        GOOD_BOARD + 'profile = "nope"\n',
        "boards[0].profile",
        "unknown profile 'nope'",
    ),
    ("bad interval", GOOD_BOARD + 'interval = "soon"\n', "boards[0].interval", "not an interval"),
    (
        "bad max_pages",
        GOOD_BOARD + "max_pages = 0\n",
        "boards[0].max_pages",
        "greater than or equal to 1",
    ),
    ("unknown key", GOOD_BOARD + "colour = 1\n", "boards[0].colour", "unknown key (line 8)"),
    (
        "a key misspelt",
        GOOD_BOARD + "max_page = 3\n",
        "boards[0].max_page",
        "unknown key (line 8); did you mean max_pages?",
    ),
    (
        "a key past a multi-line string that holds its name",
        GOOD_BOARD + '  title = """\nmax_page = 1\n"""\n  max_page = 2\n',
        "boards[0].max_page",
        "unknown key (line 11); did you mean max_pages?",
    ),
    (
        "a table misspelt",
        GOOD_BOARD + '\n[[subscriber]]\nname = "t"\n',
        "subscriber",
        "unknown key (line 9); did you mean subscribers?",
    ),
    (
        "a key of the second board",
        GOOD_BOARD
        + GOOD_BOARD.split("[crawl]\nretries = 0\n")[1].replace('"esg"', '"b"')
        + "intervall = '5m'\n",
        "boards[1].intervall",
        "unknown key (line 12); did you mean interval?",
    ),
    (
        "a profile's key misspelt",
        GOOD_BOARD + '[profiles.p]\nrow = "li"\ntitle = "a"\nnew_marke = "em"\n',
        "profiles.p.new_marke",
        "unknown key (line 11); did you mean new_marker?",
    ),
    (
        "a key no known one resembles",
        GOOD_BOARD.replace("retries = 0", "retries = 0\nzzz = 1"),
        "crawl.zzz",
        "unknown key (line 4)",
    ),
    ("nan", GOOD_BOARD.replace("retries = 0", "delay = nan"), "crawl.delay", "nan is not a number"),
    ("bad url", '[[boards]]\nname = "x"\nurl = "ftp://x"\n', "boards[0].url", "not an http(s)"),
    ("bad zone", 'timezone = "Mars/Olympus"\n', "timezone", "unknown time zone"),
    ("bad cron", SECRET_SUB + 'digest = "every day"\n', "subscribers[0].digest", "cron expression"),
    (
        "unknown board",
        GOOD_BOARD + SECRET_SUB + 'boards = ["other"]\n',
        "subscribers[0].boards",
        "no board named 'other'",
    ),
    (
        "bad quiet hours",
        SECRET_SUB + 'quiet_hours = "late"\n',
        "subscribers[0].quiet_hours",
        "not a window",
    ),
    (
        "not a url",
        SECRET_SUB.replace("mailto://", "mailto:"),
        "subscribers[0].urls",
        "not an Apprise URL",
    ),
    # the holes a mutation run found: each passed `check`, then crashed or misbehaved
    *[
        (
            f"encoding {name}",
            GOOD_BOARD + f'encoding = "{name}"\n',
            "boards[0].encoding",
            "not a text encoding of web pages",
        )
        for name in ("rot13", "base64", "unicode_escape", "zlib", "hex")
    ],
    (
        "board port out of range",
        GOOD_BOARD.replace("127.0.0.1:9", "127.0.0.1:99999"),
        "boards[0].url",
        "cannot be requested",
    ),
    (
        "board host syntax",
        GOOD_BOARD.replace("127.0.0.1:9", "[::1"),
        "boards[0].url",
        "cannot be requested",
    ),
    (
        "target port out of range",
        GOOD_BOARD + SECRET_SUB.replace("127.0.0.1:9", "127.0.0.1:99999"),
        "subscribers[0].urls[0]",
        "port 99999 is out of range",
    ),
    (
        "interval and cron",
        GOOD_BOARD + 'interval = "5m"\ncron = "*/5 * * * *"\n',
        "boards[0].cron",
        "not both",
    ),
    (
        "empty quiet hours",
        GOOD_BOARD + SECRET_SUB + 'quiet_hours = "22:00-22:00"\n',
        "subscribers[0].quiet_hours",
        "an empty window",
    ),
    ("empty config", "", "boards", "nothing to do"),
    ("interval with a space", GOOD_BOARD + 'interval = "5 s"\n', "boards[0].interval", "not an"),
    (
        "interval without quotes",
        GOOD_BOARD + "interval = 30\n",
        "boards[0].interval",
        'should be a duration in quotes with its unit, like "45s"',
    ),
    (
        "port without quotes",
        GOOD_BOARD + 'max_pages = "3"\n',
        "boards[0].max_pages",
        "should be a whole number, without quotes",
    ),
    (
        "metrics file in a file",
        GOOD_BOARD + '[metrics]\ntextfile = "scrape.toml/metrics/bw.prom"\n',
        "metrics.textfile",
        "is a file",
    ),
    (
        "feeds folder inside a file",
        GOOD_BOARD + '[feeds]\nfolder = "scrape.toml/feeds"\n',
        "feeds.folder",
        "is a file",
    ),
    (
        "NUL in text",
        GOOD_BOARD + 'title = "ESG\\u0000뉴스"\n',
        "boards[0].title",
        "control character",
    ),
    (
        "long time zone",
        f'timezone = "{"A" * 5000}"\n' + GOOD_BOARD,
        "timezone",
        "unknown time zone",
    ),
    (
        "nested key pattern",
        GOOD_BOARD
        + 'profile = "p"\n[profiles.p]\nrow = "li"\ntitle = "a"\n'
        + f'key = "{"(" * 500}x{")" * 500}"\n',
        "profiles.p.key",
        "not a valid regular expression",
    ),
    (
        "an engine's own words in a user's profile",
        GOOD_BOARD + '[profiles.p]\nrow = "li"\ntitle = "a"\nid_params = ["articleId"]\n',
        "profiles.p.id_params",
        "is known from the built-in families only",
    ),
    ("nested TOML", "a = " + "[" * 5000 + "]" * 5000 + "\n", "", "nested too deeply"),
    (
        "also_fetch a page, not a site",
        GOOD_BOARD + 'also_fetch = ["https://m.example.kr/board/list.do"]\n',
        "boards[0].also_fetch[0]",
        "is a page; give the site alone",
    ),
    (
        "also_fetch not a web address",
        GOOD_BOARD + 'also_fetch = ["ftp://files.example.kr"]\n',
        "boards[0].also_fetch[0]",
        "not an http(s) address",
    ),
    (
        "slack URL without its token",
        GOOD_BOARD + '[[subscribers]]\nname = "t"\nurls = ["slack://T0BWTEST1/B0BWTEST2/#news"]\n',
        "subscribers[0].urls[0]",
        "Apprise knows slack:// but cannot read this URL (An invalid Slack (third) Token",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config_exits_2_naming_file_key_and_reason(
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    key: str,
    reason: str,
) -> None:
    workspace.write(text)
    result = scrape(workspace, capsys, monkeypatch, "status")
    assert result.code == 2
    assert f"{workspace.config}: {key}" in result.err
    assert reason in result.err
    assert "hunter2SECRET" not in result.all


def test_an_unset_variable_is_refused_by_check_naming_it(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (`status` shows such a target as not set: tests/e2e/test_read_only.py)
    workspace.write('[[subscribers]]\nname = "t"\nurls = ["slack://${NO_SUCH_VAR_BW}"]\n')
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2
    key = "subscribers[0].urls[0]: environment variable ${NO_SUCH_VAR_BW} is not set"
    assert f"{workspace.config}: {key}" in result.err


def test_a_byte_order_mark_at_the_start_is_no_error(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.config.write_bytes(b"\xef\xbb\xbf" + GOOD_BOARD.encode())  # Notepad's UTF-8
    result = scrape(workspace, capsys, monkeypatch, "status")
    assert result.code == 0, result.err
    assert "board esg:" in result.out


def test_a_file_not_in_utf8_is_named_so_at_its_line(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.config.write_bytes((GOOD_BOARD + 'title = "ESG 정책뉴스"\n').encode("cp949"))
    result = scrape(workspace, capsys, monkeypatch, "status")
    assert result.code == 2
    assert f"{workspace.config}: line 8: the file is not UTF-8 text" in result.err
    assert "CP949" in result.err and "position" not in result.err


def test_missing_config_file(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = scrape(workspace, capsys, monkeypatch, "status")
    assert result.code == 2 and "no such file" in result.err and "scrape init" in result.err


def test_init_writes_a_starter_config_once_and_creates_the_database(workspace: Workspace) -> None:
    workspace.run("init", check=0)
    assert "ESG 정책뉴스" in workspace.config.read_text(encoding="utf-8")
    assert (workspace.path / "boardwatch.db").exists()
    status = workspace.run("status", "--json", check=0).json()
    assert [b["name"] for b in status["boards"]] == ["esg"]
    before = workspace.config.read_text(encoding="utf-8")
    again = workspace.run("init")
    assert (
        again.code == 2 and str(workspace.config) in again.err and "never overwrites" in again.err
    )
    assert workspace.config.read_text(encoding="utf-8") == before
    first = workspace.run("once")  # the starter's example address is refused before any request
    assert first.code == 2 and "boards[0].url" in first.err and "example address" in first.err


def test_init_says_what_to_run_next_and_how_to_write_another_config(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = scrape(workspace, capsys, monkeypatch, "init")
    assert first.code == 0, first.err
    said = first.err.splitlines()
    assert "set boards[0].url to the board's first list page" in said[-3]
    assert "next: scrape check " in said[-2] and "then: scrape once " in said[-1]
    again = scrape(workspace, capsys, monkeypatch, "init")
    assert again.code == 2
    assert "never overwrites a config file (another: `scrape --config NEW.toml init`)" in again.err


def test_password_never_appears_in_output_at_any_verbosity(workspace: Workspace) -> None:
    workspace.write(GOOD_BOARD + SECRET_SUB)
    for args in (["-vv", "once"], ["-vv", "notify-test"], ["status", "--json"], ["-vv", "digest"]):
        result = workspace.run(*args)
        assert "hunter2SECRET" not in result.all, args
    assert "mailto://bw:****@127.0.0.1:9/a@example.com" in workspace.run("-v", "notify-test").out


def test_database_url_from_environment_wins(workspace: Workspace) -> None:
    workspace.write(GOOD_BOARD)
    workspace.env["SCRAPE_DATABASE_URL"] = f"sqlite:///{workspace.path / 'other.db'}"
    workspace.run("status", check=0)
    assert (workspace.path / "other.db").exists() and not (
        workspace.path / "boardwatch.db"
    ).exists()


def test_the_readme_profile_example_loads_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("[profiles.myboard]", 1)[1].split("```", 1)[0]
    path = tmp_path / "scrape.toml"
    path.write_text(GOOD_BOARD + "[profiles.myboard]" + example, encoding="utf-8")
    profile = config_file.load(path).profile("myboard")
    assert (profile.row, profile.title, profile.drop) == (
        "ul.news-list > li",
        "a.subject",
        "span.comments",
    )
    assert profile.key == "fnView\\('(\\d+)'\\)" and profile.page_param == "pageIndex"


# What an engine says of itself, by its type (`Profile`'s fields so annotated), and a value of it.
ENGINE_KINDS = [
    (profiles.Words, '["x"]'),
    (profiles.Pairs, '[["date", "x"]]'),
    (profiles.Css, '".x"'),
]
ENGINE_FIELDS = {
    name: value
    for name, hint in get_type_hints(profiles.Profile, include_extras=True).items()
    for kind, value in ENGINE_KINDS
    if hint == kind
}


@pytest.mark.parametrize(("field", "value"), sorted(ENGINE_FIELDS.items()))
def test_every_engine_field_is_refused_in_a_user_profile(
    tmp_path: Path, field: str, value: str
) -> None:
    path = tmp_path / "scrape.toml"
    path.write_text(
        GOOD_BOARD + f'[profiles.p]\nrow = "li"\ntitle = "a"\n{field} = {value}\n',
        encoding="utf-8",
    )
    with pytest.raises(config.ConfigError) as raised:
        config_file.load(path)
    assert raised.value.key == f"profiles.p.{field}"
    assert "is known from the built-in families only" in raised.value.reason


def test_a_user_profile_may_name_its_notice_and_department_words(tmp_path: Path) -> None:
    path = tmp_path / "scrape.toml"
    path.write_text(
        GOOD_BOARD + '[profiles.mine]\nrow = "li"\ntitle = "a"\n'
        'notice_words = ["알림"]\ndepartment_labels = ["소관과"]\n',
        encoding="utf-8",
    )
    mine = config_file.load(path).profile("mine")
    assert (mine.notice_words, mine.department_labels, mine.drop) == (("알림",), ("소관과",), None)


def test_a_database_in_memory_is_refused(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write('[storage]\nurl = "sqlite://"\n' + GOOD_BOARD)
    workspace.db_url = ""  # the file's own database URL, not the test's
    monkeypatch.delenv("SCRAPE_DATABASE_URL", raising=False)
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2 and "storage.url" in result.err and "in memory" in result.err


def test_probe_needs_no_subscriber_secrets(tmp_path: Path) -> None:
    path = tmp_path / "scrape.toml"
    path.write_text(
        GOOD_BOARD + '[[subscribers]]\nname = "t"\nurls = ["${NO_SUCH_SECRET_BW}"]\n'
        '[notify]\nadmin_urls = ["slack://${NOR_THIS_ONE_BW}"]\n'
        '[profiles.mine]\nrow = "li"\ntitle = "a"\n',
        encoding="utf-8",
    )
    with pytest.raises(config.ConfigError, match="NO_SUCH_SECRET_BW"):
        config_file.load(path)
    assert "mine" in config_file.load(path, secrets=False).known_profiles()
