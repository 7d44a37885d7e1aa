"""Reading `scrape.toml`: the file found (`--config`, `$SCRAPE_CONFIG`, `./scrape.toml`), parsed
with tomllib, `${VAR}` expanded in URLs, paths made relative to the file, then validated whole
(`scheduler.config`), every error worded for the file's author as a `ConfigError`."""

from __future__ import annotations

import codecs
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.config import DEFAULT_PATH, UNSET_OK, Config, ConfigError, KeyProblem
from scheduler.config import keys as config_keys
from scheduler.config.values import VARIABLE, short

_LINE = re.compile(r"\(at line (\d+)")


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("SCRAPE_CONFIG") or DEFAULT_PATH)


def load(path: Path, *, secrets: bool = True, unset_ok: bool = False) -> Config:
    """Read, expand and validate `path`; `$SCRAPE_DATABASE_URL` wins over `[storage] url`; a
    relative SQLite path in the file is relative to the file's folder.

    `secrets=False` (for `scrape probe`) leaves subscribers, admin targets, the store and the
    HTTP port out: reading a board needs none of them, nor their `${VAR}`s. `unset_ok` (for the
    commands that only show: `status`, `posts`, `digest --preview`) keeps a target URL (and the
    HTTP secret) whose `${VAR}` is unset with the `${VAR}` in it
    (`config_values.unset_variables`), to be shown as not set and never sent to; the database
    URL's variables are needed all the same.
    """
    data = read(path)
    if not secrets:
        data = {k: v for k, v in data.items() if k not in ("subscribers", "storage", "http")}
        if isinstance(data.get("notify"), dict):
            data["notify"] = {k: v for k, v in data["notify"].items() if k != "admin_urls"}
        return validate(path, data)
    data = _expand(path, data, unset_ok=unset_ok)
    for section, key in (("metrics", "textfile"), ("feeds", "folder")):
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key]:
            table[key] = str(path.resolve().parent / table[key])  # an absolute path stays itself
    storage = data.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("url"), str):
        storage["url"] = _beside(path, storage["url"])
    if os.environ.get("SCRAPE_DATABASE_URL"):
        if not isinstance(storage, dict):
            storage = data["storage"] = {}
        storage["url"] = os.environ["SCRAPE_DATABASE_URL"]
    config = validate(path, data, unset_ok=unset_ok)
    if not config.boards and not config.subscribers:
        raise ConfigError(path, "boards", "nothing to do: add a [[boards]] table to watch")
    return config


def read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text_of(path))
    except tomllib.TOMLDecodeError as exc:
        line = _LINE.search(str(exc))
        reason = f"not valid TOML: {exc}"
        raise ConfigError(path, "", reason, line=int(line[1]) if line else None) from None
    except RecursionError:
        raise ConfigError(path, "", "nested too deeply to be a boardwatch config") from None


def text_of(path: Path) -> str:
    """The file's text: UTF-8, a byte order mark at its start (Windows' Notepad writes one)
    left out; a file in another encoding is refused at the line of its first byte UTF-8 has not."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "", "no such file; create one with `scrape init`") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror or exc}") from None
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "", _not_utf8(raw, exc.start), line=line) from None


def _not_utf8(raw: bytes, at: int) -> str:
    byte = f"byte 0x{raw[at]:02x}"
    try:
        raw.decode("cp949")
        guess = " (it reads as CP949/EUC-KR: `iconv -f cp949 -t utf-8`)"
    except UnicodeDecodeError:
        guess = ""
    return f"the file is not UTF-8 text: {byte} here is not UTF-8; save it as UTF-8{guess}"


def _beside(path: Path, url: str) -> str:
    """`sqlite:///boardwatch.db` in /etc/boardwatch/scrape.toml is /etc/boardwatch/boardwatch.db."""
    prefix, _, rest = url.partition(":///")
    if not prefix.startswith("sqlite") or not rest or rest.startswith(("/", ":memory:")):
        return url
    return f"{prefix}:///{(path.resolve().parent / rest).as_posix()}"


def validate(path: Path, data: dict[str, Any], *, unset_ok: bool = False) -> Config:
    _plain_text(path, data, "")
    try:
        config = Config.model_validate({**data, "path": str(path)}, context={UNSET_OK: unset_ok})
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        key = _key(error["loc"])
        if isinstance(cause, KeyProblem):
            joined = f"{key}{cause.key}" if cause.key.startswith("[") else f"{key}.{cause.key}"
            key = cause.key if "." in cause.key or key == "" else joined
        if error["type"] in UNKNOWN and not isinstance(cause, KeyProblem):
            reason, line = config_keys.unknown(error["loc"], _text(path), Config)
            raise ConfigError(path, key, reason, line=line) from None
        reason = str(cause) if cause else _reason(error, key)
        raise ConfigError(path, key, reason) from None
    except RecursionError:
        raise ConfigError(path, "", "nested too deeply to be a boardwatch config") from None
    return config


UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")  # models; dataclasses (profiles)


def _text(path: Path) -> str | None:
    """The file's text again, to find a key's line in (None: not there, or not readable)."""
    try:
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return None


# Pydantic's error types, in words a TOML file's author reads (what to write instead).
_TYPES = {
    "string_type": "should be text in quotes",
    "int_type": "should be a whole number, without quotes",
    "float_type": "should be a number, without quotes",
    "bool_type": "should be true or false, without quotes",
    "list_type": 'should be a list, like ["a", "b"]',
    "model_type": "should be a table",
    "dict_type": "should be a table",
    "extra_forbidden": "unknown key",
    "missing": "is required",
}
DURATIONS = frozenset({"interval", "lease_ttl", "robots_ttl", "retry_backoff", "retry_max_delay"})


def _reason(error: Any, key: str) -> str:
    """What is wrong, in our words where pydantic's would puzzle (`interval = 30`)."""
    kind, given = error["type"], error.get("input")
    if isinstance(given, float) and math.isnan(given):  # TOML's nan is a float, and none
        return "should be a number: nan is not a number"
    if kind == "string_type" and key.rsplit(".", 1)[-1] in DURATIONS:
        example = '"45s", "10m" or "2h"'
        return f"should be a duration in quotes with its unit, like {example} (not {given!r})"
    if kind in _TYPES:
        shown = "" if kind in ("missing", "extra_forbidden") else f" (not {short(repr(given))})"
        return _TYPES[kind] + shown
    return str(error["msg"])


def _plain_text(path: Path, data: Any, key: str) -> None:
    """No NUL (or other control character but tab and newline) in any string of the file."""
    if isinstance(data, dict):
        for name, value in data.items():
            _plain_text(path, value, f"{key}.{name}" if key else str(name))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _plain_text(path, value, f"{key}[{i}]")
    elif isinstance(data, str) and any(ord(c) < 32 and c not in "\t\n" for c in data):
        raise ConfigError(path, key, "holds a control character (a NUL byte?): not usable text")


def _key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _expand(path: Path, data: dict[str, Any], *, unset_ok: bool = False) -> dict[str, Any]:
    """`${VAR}` in storage.url, subscribers' urls, notify.admin_urls and http.secret, from the
    environment (`unset_ok`: a target URL's or the secret's unset `${VAR}` is left as written).
    Values of the wrong type are left for validation to name."""
    storage = data.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("url"), str):
        storage["url"] = _sub(path, "storage.url", storage["url"])
    http = data.get("http")
    if isinstance(http, dict) and isinstance(http.get("secret"), str):
        http["secret"] = _sub(path, "http.secret", http["secret"], unset_ok=unset_ok)
    subscribers = data.get("subscribers")
    for i, sub in enumerate(subscribers if isinstance(subscribers, list) else []):
        if isinstance(sub, dict) and isinstance(sub.get("urls"), list):
            key = f"subscribers[{i}].urls"
            sub["urls"] = [
                _sub(path, f"{key}[{j}]", u, unset_ok=unset_ok) for j, u in enumerate(sub["urls"])
            ]
    notify = data.get("notify")
    if isinstance(notify, dict) and isinstance(notify.get("admin_urls"), list):
        urls = notify["admin_urls"]
        notify["admin_urls"] = [
            _sub(path, f"notify.admin_urls[{j}]", u, unset_ok=unset_ok) for j, u in enumerate(urls)
        ]
    return data


def _sub(path: Path, key: str, value: Any, *, unset_ok: bool = False) -> Any:
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name in os.environ:
            return os.environ[name]
        if unset_ok:
            return match[0]
        raise ConfigError(path, key, f"environment variable ${{{name}}} is not set")

    return VARIABLE.sub(replace, value)
