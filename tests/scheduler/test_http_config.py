"""`[http]`: where `scrape run` serves (its old name, `[metrics] address`, still works), and the
unsubscribe links' `public_url` and `secret` — each mistake a config error naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler import config
from scheduler.config import file as config_file

BOARD = '[[boards]]\nname = "esg"\nurl = "http://127.0.0.1:9/bbs/board.php?page=1"\n'
SECRET = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://boards.example.org/boardwatch"


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "scrape.toml"
    path.write_text(BOARD + text, encoding="utf-8")
    return config_file.load(path)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("", "127.0.0.1:9464"),  # on, on loopback, by default
        ('[http]\naddress = "0.0.0.0:9000"\n', "0.0.0.0:9000"),
        ('[http]\naddress = ""\n', ""),
        ('[metrics]\naddress = ":9465"\n', ":9465"),  # the old name alone
        ('[metrics]\naddress = ""\n', ""),  # as `scrape init` used to write it: off
        (
            '[metrics]\naddress = "127.0.0.1:9000"\n[http]\naddress = "127.0.0.1:9000"\n',
            "127.0.0.1:9000",
        ),
        ('[metrics]\naddress = ""\n[http]\naddress = "127.0.0.1:9000"\n', "127.0.0.1:9000"),
    ],
)
def test_where_the_daemon_serves(tmp_path: Path, text: str, address: str) -> None:
    assert load(tmp_path, text).http_address == address


BAD = [
    (
        "both names, two addresses",
        '[metrics]\naddress = "127.0.0.1:9000"\n[http]\naddress = "127.0.0.1:9001"\n',
        "metrics.address",
        "is the old name of [http] address",
    ),
    (
        "public_url without secret",
        f'[http]\npublic_url = "{PUBLIC}"\n',
        "http.secret",
        "is required with public_url",
    ),
    (
        "a guessable secret",
        f'[http]\npublic_url = "{PUBLIC}"\nsecret = "hunter2"\n',
        "http.secret",
        "at least 16",
    ),
    (
        "unset secret",
        f'[http]\npublic_url = "{PUBLIC}"\nsecret = "${{NO_SUCH_SECRET_BW}}"\n',
        "http.secret",
        "${NO_SUCH_SECRET_BW} is not set",
    ),
    (
        "public_url with a query",
        f'[http]\npublic_url = "{PUBLIC}?x=1"\nsecret = "{SECRET}"\n',
        "http.public_url",
        "without a query or a fragment",
    ),
    (
        "public_url with an escape",
        f'[http]\npublic_url = "{PUBLIC}/board%20watch"\nsecret = "{SECRET}"\n',
        "http.public_url",
        "characters a mail header cannot carry",
    ),
    (
        "public_url not ASCII",
        f'[http]\npublic_url = "https://게시판.example.kr/bw"\nsecret = "{SECRET}"\n',
        "http.public_url",
        "characters a mail header cannot carry",
    ),
    (
        "public_url too long for one header line",
        f'[http]\npublic_url = "{PUBLIC}/{"x" * 900}"\nsecret = "{SECRET}"\n',
        "http.public_url",
        "at most 900",
    ),
    (
        "public_url not a web address",
        f'[http]\npublic_url = "ftp://example.org/bw"\nsecret = "{SECRET}"\n',
        "http.public_url",
        "not an http(s) address",
    ),
    (
        "public_url while nothing serves",
        f'[metrics]\naddress = ""\n[http]\npublic_url = "{PUBLIC}"\nsecret = "{SECRET}"\n',
        "http.address",
        "is off, yet public_url sends subscribers to it",
    ),
    ("a hint on two lines", '[http]\nleave_hint = "a\\nb"\n', "http.leave_hint", "one line"),
    ("a bad address", '[http]\naddress = "9464"\n', "http.address", "is not host:port"),
    ("an unknown key", '[http]\nsecrets = "x"\n', "http.secrets", "unknown key"),
]


@pytest.mark.parametrize(("text", "key", "reason"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_each_mistake_names_its_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    with pytest.raises(config.ConfigError) as raised:
        load(tmp_path, text)
    assert raised.value.key == key and reason in raised.value.reason
    assert "hunter2" not in str(raised.value)


def test_the_secret_comes_from_the_environment_and_a_trailing_slash_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOARDWATCH_SECRET", SECRET)
    cfg = load(tmp_path, f'[http]\npublic_url = "{PUBLIC}/"\nsecret = "${{BOARDWATCH_SECRET}}"\n')
    assert (cfg.http.public_url, cfg.http.secret) == (PUBLIC, SECRET)


def test_probe_needs_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "scrape.toml"
    path.write_text(
        BOARD + f'[http]\npublic_url = "{PUBLIC}"\nsecret = "${{NO_SUCH_SECRET_BW}}"\n',
        encoding="utf-8",
    )
    assert config_file.load(path, secrets=False).boards[0].name == "esg"
