"""Mutated configs through `scrape check`: whatever a user writes, the answer is exit 0 or 2 with
the file named, never a traceback or exit 1; and every mutation known to be unusable is refused.

Some two thousand configs: the good one with each of its values swapped, in turn, for each of a
pool of wrong types, out-of-range numbers and hostile text; then 300 with one or two keys changed
at random (a value swapped, a key removed or an unknown one added).
"""

from __future__ import annotations

import copy
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import main

GOOD: dict[str, Any] = {
    "timezone": "Asia/Seoul",
    "storage": {"url": "sqlite:///fuzz.db", "lease_ttl": "60s"},
    "crawl": {
        "user_agent": "boardwatch-test",
        "obey_robots_txt": True,
        "concurrency": 4,
        "delay": 0.5,
        "timeout": 10,
        "retries": 1,
        "retry_backoff": 1.0,
        "max_page_size": "5MiB",
        "robots_ttl": "1d",
    },
    "boards": [
        {
            "name": "esg",
            "title": "ESG 정책뉴스",
            "url": "http://127.0.0.1:9/bbs/board.php?bo_table=esg&page=1",
            "profile": "esg",
            "max_pages": 3,
            "interval": "10m",
            "backfill": 0,
            "details": True,
            "encoding": "auto",
            "enabled": True,
        }
    ],
    "subscribers": [
        {
            "name": "team",
            "urls": ["mailto://bw:pw@127.0.0.1:2525?from=a@example.com&to=b@example.com"],
            "boards": ["esg"],
            "keywords": ["탄소"],
            "exclude_keywords": ["채용"],
            "quiet_hours": "22:00-07:00",
            "digest": "immediate",
            "include_updates": False,
        }
    ],
    "notify": {
        "admin_urls": [],
        "failure_threshold": 3,
        "send_concurrency": 4,
        "retry_backoff": "1m",
        "retry_max_delay": "1h",
        "max_digest_posts": 50,
    },
    "metrics": {"address": "127.0.0.1:9464", "textfile": "bw.prom"},
    "feeds": {"folder": "feeds", "entries": 20},
    "profiles": {"mine": {"row": "li", "title": "a", "key": "no=(\\d+)", "link": "v.do?no={key}"}},
}

POOL: list[Any] = [
    "",
    "x",
    "0",
    "30",
    "5 s",
    "-5m",
    "0s",
    "99999999999s",
    "22:00-22:00",
    "25:00-07:00",
    "A" * 5000,
    "ESG\x00",
    "${NOPE_BW_FUZZ}",
    "rot13",
    "base64",
    "unicode_escape",
    "http://127.0.0.1:99999/x",
    "http://[::1/x",
    "ftp://example.com/",
    "mailto://x:y@127.0.0.1:99999?to=a@example.com",
    "mialto://x@example.com",
    "sqlite://",
    "sqlite:///:memory:",
    "postgresql://u@127.0.0.1:99999/db",
    "*/5 * * * *",
    "61 25 * * *",
    "((((",
    "(" * 500 + "x" + ")" * 500,
    "//*[",
    "/nonexistent-bw-fuzz/deep/file.prom",
    "scrape.toml/inner",
    0,
    -1,
    1,
    10**12,
    3.5,
    float("inf"),
    True,
    [],
    ["a"],
    [1, 2],
    {"a": 1},
    {},
    # #27: values `check` once passed and the first run then failed on (or burnt the machine)
    "!!!",
    "   ",
    "0 0 31 2 *",
    "http://a b/",
    "sqlite:///.",
    "sqlite:////proc/version",
    "/tmp",
    "/proc",
    "view.do?id={key:>99999999}",
    "view.do?id={key.__class__.__mro__}",
    "x=((a|aa)+)+$",
]
# (key path, value) pairs that no one can use: `check` must refuse each with exit 2.
REFUSED: list[tuple[tuple[Any, ...], Any]] = [
    (("boards", 0, "url"), "http://127.0.0.1:99999/x"),
    (("boards", 0, "url"), "http://[::1/x"),
    (("boards", 0, "url"), "ftp://example.com/"),
    (("boards", 0, "encoding"), "rot13"),
    (("boards", 0, "encoding"), "base64"),
    (("boards", 0, "encoding"), "unicode_escape"),
    (("boards", 0, "interval"), "5 s"),
    (("boards", 0, "interval"), 30),
    (("boards", 0, "cron"), "*/5 * * * *"),  # beside `interval`
    (("boards", 0, "title"), "ESG\x00"),
    (("boards", 0, "max_pages"), 0),
    (("subscribers", 0, "quiet_hours"), "22:00-22:00"),
    (("subscribers", 0, "urls", 0), "mailto://x:y@127.0.0.1:99999?to=a@example.com"),
    (("subscribers", 0, "urls", 0), "mialto://x@example.com"),
    (("storage", "url"), "sqlite://"),
    (("storage", "url"), "sqlite:///:memory:"),
    (("storage", "url"), "postgresql://u@127.0.0.1:99999/db"),
    (("timezone",), "A" * 5000),
    (("metrics", "textfile"), "scrape.toml/deep/file.prom"),
    (("metrics", "address"), "127.0.0.1:99999"),
    (("feeds", "folder"), "scrape.toml/inner"),
    (("boards",), []),
    (("crawl", "concurrency"), 10**12),
    (("subscribers", 0, "keywords", 0), ""),
    (("subscribers", 0, "keywords", 0), "!!!"),
    (("subscribers", 0, "exclude_keywords", 0), "   "),
    (("subscribers", 0, "boards"), []),
    (("subscribers", 0, "digest"), "0 0 31 2 *"),
    (("boards", 0, "url"), "http://a b/"),
    (("storage", "url"), "sqlite:///."),
    (("storage", "url"), "sqlite:////proc/version"),
    (("metrics", "textfile"), "/tmp"),
    (("feeds", "folder"), "/proc"),
    (("profiles", "mine", "link"), "view.do?id={key:>99999999}"),
    (("profiles", "mine", "link"), "view.do?id={key.__class__.__mro__}"),
    (("profiles", "mine", "key"), "x=((a|aa)+)+$"),
]


def leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in leaves(v, (*path, k))] or [path]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in leaves(v, (*path, i))] or [path]
    return [path]


def put(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def drop(data: Any, path: tuple[Any, ...]) -> None:
    for part in path[:-1]:
        data = data[part]
    if isinstance(data, dict):
        data.pop(path[-1], None)


def toml(data: dict[str, Any]) -> str:
    """The config as TOML (scalars and lists inline, tables and arrays of tables as sections)."""
    lines: list[str] = []
    _table(lines, data, "")
    return "\n".join(lines) + "\n"


def _table(lines: list[str], data: dict[str, Any], name: str) -> None:
    nested = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            nested.append((key, value, False))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.append((key, value, True))
        else:
            lines.append(f"{json.dumps(str(key))} = {_value(value)}")
    for key, value, many in nested:
        full = f"{name}.{json.dumps(str(key))}" if name else json.dumps(str(key))
        for table in value if many else [value]:
            lines.append(f"[[{full}]]" if many else f"[{full}]")
            _table(lines, table, full)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == float("inf"):
        return "inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def mutants(seed: int, count: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    paths = leaves(GOOD)
    found = []
    for n in range(count):
        data = copy.deepcopy(GOOD)
        what = []
        for _ in range(rng.choice((1, 1, 2))):
            path = rng.choice(paths)
            roll = rng.random()
            if roll < 0.75:
                value = rng.choice(POOL)
                put(data, path, value)
                what.append(f"{'.'.join(map(str, path))}={str(value)[:20]!r}")
            elif roll < 0.9:
                drop(data, path)
                what.append(f"-{'.'.join(map(str, path))}")
            else:
                put(data, (*path[:-1], "colour"), 1) if isinstance(path[-1], str) else None
                what.append(f"+{'.'.join(map(str, path[:-1]))}.colour")
        found.append((f"{n}: {' '.join(what)}", data))
    return found


def check(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: dict[str, Any],
) -> tuple[int, str]:
    config = tmp_path / "scrape.toml"
    config.write_text(toml(data), encoding="utf-8")
    monkeypatch.delenv("SCRAPE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(["--config", str(config), "check"])
    finally:
        root.handlers[:], root.level = handlers, level
    return code, capsys.readouterr().err


def test_the_good_config_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = check(tmp_path, capsys, monkeypatch, copy.deepcopy(GOOD))
    assert code == 0, err


def sweep() -> list[tuple[str, dict[str, Any]]]:
    """Every leaf of the good config given every value of the pool, one at a time."""
    found = []
    for path in leaves(GOOD):
        for value in POOL:
            data = copy.deepcopy(GOOD)
            put(data, path, value)
            found.append((f"{'.'.join(map(str, path))}={str(value)[:20]!r}", data))
    return found


CASES = sweep() + mutants(seed=20, count=300)


@pytest.mark.parametrize("chunk", range(12))
def test_no_mutated_config_crashes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    for name, data in CASES[chunk::12]:
        code, err = check(tmp_path, capsys, monkeypatch, data)
        assert code in (0, 2), f"{name}: exit {code}: {err}"
        assert "Traceback" not in err and "unexpected error" not in err, f"{name}: {err}"
        if code == 2:
            assert "configuration error:" in err and "scrape.toml" in err, f"{name}: {err}"


@pytest.mark.parametrize(
    ("path", "value"), REFUSED, ids=[f"{'.'.join(map(str, p))}={str(v)[:24]!r}" for p, v in REFUSED]
)
def test_every_unusable_value_is_refused_naming_its_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: tuple[Any, ...],
    value: Any,
) -> None:
    data = copy.deepcopy(GOOD)
    put(data, path, value)
    code, err = check(tmp_path, capsys, monkeypatch, data)
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    if path[-1] == "cron":
        key = key.replace("cron", "")  # named as the board's `cron` or `interval`
    assert code == 2 and key in err, err
