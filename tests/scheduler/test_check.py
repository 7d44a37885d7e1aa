"""`scrape check`, and the config validated whole at load: every bad value is exit 2 naming the
file and the key — never a Python message, a traceback, or a run that goes on to fail."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import scrape
from tests.support.workspace import Workspace

GOOD = """
timezone = "Asia/Seoul"

[storage]
url = "sqlite:///boardwatch.db"
lease_ttl = "60s"

[crawl]
user_agent = "boardwatch-test"
concurrency = 4
delay = 0.5
timeout = 20
retries = 2
retry_backoff = 1.0
max_page_size = "5MiB"
robots_ttl = "1d"

[[boards]]
name = "esg"
title = "ESG 정책뉴스"
url = "https://www.esg.example.org/bbs/board.php?bo_table=esg_news"
profile = "mine"
max_pages = 10
interval = "10m"
backfill = 0
details = true
encoding = "auto"

[[subscribers]]
name = "team"
urls = ["mailto://bw:pw123456@smtp.example.com:587?from=a@example.com&to=b@example.com"]
boards = ["esg"]
keywords = ["탄소"]
quiet_hours = "22:00-07:00"
digest = "0 9 * * 1-5"

[notify]
admin_urls = ["slack://T0AAAAAAA/B0BBBBBBB/xoxCCCCCCCCCCCC/#ops"]
failure_threshold = 3
send_concurrency = 8
retry_backoff = "1m"
retry_max_delay = "1h"
max_digest_posts = 50

[metrics]
address = "127.0.0.1:9464"
textfile = "boardwatch.prom"

[feeds]
folder = "feeds"
entries = 20
base_url = "https://example.org/boardwatch"

[profiles.mine]
headers = true
row = "table.list tr"
title = "td.subject a"
key = "no=(\\\\d+)"
link = "view.do?no={key}"
"""

# key -> bad values (each a TOML value)
BAD: dict[str, list[str]] = {
    "timezone": ['"Mars/Olympus"', "3", "[]"],
    "storage": ['"sqlite:///x.db"'],
    "storage.url": ['"not a url"', '"nosuchdb://x"', "1"],
    "storage.lease_ttl": ['"0s"', '"2d"', '"soon"', "60"],
    "crawl.concurrency": ["0", "1000", '"8"', "-1"],
    "crawl.delay": ["1e9", "-1", '"slow"'],
    "crawl.timeout": ["0", "1e6", "true"],
    "crawl.retries": ["-1", "99"],
    "crawl.retry_backoff": ["1e9", "-2"],
    "crawl.max_page_size": ['"1TB"', "10", '"lots"'],
    "crawl.user_agent": ['""', "1"],
    "boards[0].name": ['"has space"', '""', "7"],
    "boards[0].url": ['"ftp://x"', '"esg.example.kr"', '"https://"'],
    "boards[0].profile": ['"nope"'],
    "boards[0].max_pages": ["0", "1000000"],
    "boards[0].interval": ['"0s"', '"999d"', '"soon"'],
    "boards[0].cron": ['"99 99 99 99 99"', '"every day"', '"* * * *"'],
    "boards[0].backfill": ["-1", "1000000"],
    "boards[0].encoding": ['"klingon"', "1"],
    "boards[0].details": ['"yes"'],
    "subscribers[0].urls": ["[]", '"mailto://x"', '["no-scheme"]'],
    "subscribers[0].boards": ['["other"]', '"esg"'],
    "subscribers[0].quiet_hours": ['"late"', '"25:00-07:00"'],
    "subscribers[0].digest": ['"99 99 99 99 99"', '"daily"', '"0 9 * * 8"'],
    "subscribers[0].keywords": ['"탄소"', "[1]"],
    "notify.failure_threshold": ["0", "10000"],
    "notify.send_concurrency": ["0", "100"],
    "notify.retry_backoff": ['"0s"', '"9d"'],
    "notify.retry_max_delay": ['"1s"'],
    "notify.max_digest_posts": ["0", "100000"],
    "notify.templates": ['"/no/such/folder"'],
    "notify.admin_urls": ['["slack"]', '"x"'],
    "crawl.robots_ttl": ['"10s"', '"30d"'],
    "metrics.address": ['"9464"', '"127.0.0.1:99999"', '"localhost:http"'],
    "feeds.entries": ["0", "100000"],
    "feeds.base_url": ['"example.org/feeds"'],
    "profiles.mine.key": ['"no=\\\\d+"', '"(unclosed"'],
    "profiles.mine.row": ['"tr[[["', '"///"'],
    "profiles.mine.title": ['"a:nonsense("'],
    "profiles.mine.link": ['"view.do?no={key"'],
    "profiles.mine.colour": ['"red"'],
}
CASES = [(key, value) for key, values in BAD.items() for value in values]


def mutate(key: str, value: str) -> str:
    """GOOD with `key` set to `value` (TOML), by editing the parsed document and re-writing."""
    data = tomllib.loads(GOOD)
    parts = key.replace("[0]", ".0").split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    parsed = tomllib.loads(f"v = {value}")["v"]
    node[int(last) if last.isdigit() else last] = parsed
    return dumps(data)


def dumps(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for this test's documents."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict | list) or _values(v)}
    lines = [f"{k} = {_value(v)}" for k, v in plain.items()]
    for k, v in data.items():
        if isinstance(v, dict) and not k.startswith("_"):
            lines += ["", f"[{prefix}{k}]", dumps(v, f"{prefix}{k}.").strip()]
        elif isinstance(v, list) and v and not _values(v):
            for item in v:
                lines += ["", f"[[{prefix}{k}]]", dumps(item, f"{prefix}{k}.").strip()]
    return "\n".join(lines) + "\n"


def _values(v: Any) -> bool:
    return not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict))


def _value(v: Any) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def test_the_good_config_checks_ok(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write(dumps(tomllib.loads(GOOD)))
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 0, result.all
    assert "ok (1 board(s), 1 subscriber(s), 2 target URL(s))" in result.err


@pytest.mark.parametrize(("key", "value"), CASES, ids=[f"{k}={v}" for k, v in CASES])
def test_every_bad_value_is_exit_2_naming_the_key(
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    value: str,
) -> None:
    workspace.write(mutate(key, value))
    if key.startswith("storage"):
        workspace.db_url = ""  # no $SCRAPE_DATABASE_URL: the file's [storage] counts
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2, result.all
    section = key.split("[")[0].split(".")[0]
    assert f"{workspace.config}: {section}" in result.err, result.err
    assert "Traceback" not in result.all and "pw123456" not in result.all
    assert "xoxCCCCCCCCCCCC" not in result.all


def test_a_toml_error_names_the_line(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write('timezone = "Asia/Seoul"\n[crawl]\nconcurrency = = 3\n')
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2 and f"{workspace.config}: line 3:" in result.err


def test_an_unreachable_database_is_exit_2_naming_storage_url(
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    workspace.write(dumps(tomllib.loads(GOOD)))
    workspace.db_url = "postgresql+psycopg://bw:dbSECRET@127.0.0.1:9/nothing"
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2 and "storage.url" in result.err and "dbSECRET" not in result.all


def test_the_starter_configs_example_address_fails_the_check_as_it_fails_a_run(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scrape(workspace, capsys, monkeypatch, "init").code == 0
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2 and "boards[0].url: still the example address" in result.err


@pytest.mark.parametrize(
    ("template", "text", "says"),
    [
        ("digest.html.j2", "{{ 1 // 0 }}", "digest.html.j2 cannot be rendered: ZeroDivisionError"),
        ("subject.txt.j2", "{{ boards[0].posts[0].title.nope() }}", "subject.txt.j2 cannot be"),
        ("alert.txt.j2", "{% for x in 3 %}{% endfor %}", "alert.txt.j2 cannot be rendered"),
        ("digest.slack.j2", "{{ count", "digest.slack.j2 cannot be rendered"),
    ],
)
def test_check_renders_every_template_a_run_would_send(
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    template: str,
    text: str,
    says: str,
) -> None:
    """An override that fails when rendered (not only one that fails to parse) is refused
    before any run sends with it — the run would fail every digest ("unexpected error")."""
    folder = workspace.path / "templates"
    folder.mkdir()
    (folder / template).write_text(text, encoding="utf-8")
    workspace.write(GOOD.replace("[notify]\n", f'[notify]\ntemplates = "{folder}"\n'))
    result = scrape(workspace, capsys, monkeypatch, "check")
    assert result.code == 2 and "notify.templates" in result.err and says in result.err
