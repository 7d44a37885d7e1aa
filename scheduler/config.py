"""`scrape.toml`: read with tomllib, validated with pydantic, `${VAR}` expanded in URLs.

Every problem becomes a `ConfigError` naming the file, the key and the reason (exit 2).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)

from notify.masking import mask_url
from scraper import profiles
from scraper.profiles import Profile

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INTERVAL = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_PATH = "scrape.toml"


class ConfigError(Exception):
    """Bad configuration (exit 2): the file, the key (or line) and what is wrong."""

    def __init__(self, path: str | Path, key: str, reason: str, *, line: int | None = None) -> None:
        where = f"{path}: {key}: " if key else (f"{path}: line {line}: " if line else f"{path}: ")
        super().__init__(where + reason)
        self.path, self.key, self.reason, self.line = str(path), key, reason, line


def interval_seconds(value: str) -> int:
    match = _INTERVAL.match(value.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f'{value!r} is not an interval like "45s", "10m" or "2h"')
    return int(match[1]) * _UNITS[match[2]]


def check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f'{value!r} is not a 5-field cron expression like "0 9 * * 1-5"')
    return " ".join(fields)


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def check_quiet_hours(value: str | None) -> str | None:
    if value is None:
        return None
    start, _, end = value.partition("-")
    if not (_HHMM.match(start.strip()) and _HHMM.match(end.strip())):
        raise ValueError(f'{value!r} is not a window like "22:00-07:00"')
    return value


# A user's [profiles.NAME] is validated as the `Profile` record itself: one schema, no copy.
with_config(ConfigDict(extra="forbid"))(Profile)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Storage(Strict):
    url: str = "sqlite:///boardwatch.db"
    # how long a run's lease on a board or on delivery outlives the run if it is killed
    lease_ttl: Annotated[str, AfterValidator(lambda v: interval_seconds(v) and v)] = "60s"


class Crawl(Strict):
    user_agent: str = "boardwatch/0.1 (+https://github.com/boardwatch/boardwatch)"
    obey_robots_txt: bool = True
    concurrency: int = Field(8, ge=1, le=64)
    delay: float = Field(0.0, ge=0)
    timeout: float = Field(20, gt=0)
    retries: int = Field(2, ge=0, le=10)
    retry_backoff: float = Field(1.0, ge=0)


class BoardConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    url: str = Field(pattern=r"^https?://")
    title: str | None = None
    profile: str = "esg"
    max_pages: int = Field(10, ge=1, le=1000)
    interval: Annotated[str, AfterValidator(lambda v: interval_seconds(v) and v)] = "10m"
    cron: Annotated[str, AfterValidator(check_cron)] | None = None
    backfill: int = Field(0, ge=0)
    details: bool = True
    encoding: str = "auto"
    enabled: bool = True

    @property
    def display_title(self) -> str:
        return self.title or self.name

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        if value != "auto":
            codecs.lookup(value)
        return value


class SubscriberConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@\-]+$")
    urls: list[str] = Field(min_length=1)
    boards: list[str] | None = None
    keywords: list[str] = []
    exclude_keywords: list[str] = []
    quiet_hours: Annotated[str | None, AfterValidator(check_quiet_hours)] = None
    digest: str = "immediate"
    include_updates: bool = False

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        return value if value == "immediate" else check_cron(value)

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if "://" not in url:
                raise ValueError(f"{mask_url(url)!r} is not an Apprise URL like mailto://…")
        return value


class NotifyConfig(Strict):
    admin_urls: list[str] = []
    templates: str = ""
    failure_threshold: int = Field(3, ge=1)
    send_concurrency: int = Field(8, ge=1, le=64)  # digests sent at once (each target on its own)
    retry_backoff: Annotated[str, AfterValidator(lambda v: interval_seconds(v) and v)] = "1m"
    retry_max_delay: Annotated[str, AfterValidator(lambda v: interval_seconds(v) and v)] = "1h"

    def retry_delay(self, failures: int) -> float:
        """After the first failure the next run retries; then base, 2×base, 4×base … up to max."""
        if failures <= 1:
            return 0.0
        base, cap = interval_seconds(self.retry_backoff), interval_seconds(self.retry_max_delay)
        return float(min(base * 2 ** (failures - 2), cap))


class Config(Strict):
    timezone: Annotated[str, AfterValidator(check_zone)] = "Asia/Seoul"
    storage: Storage = Storage()
    crawl: Crawl = Crawl()
    boards: list[BoardConfig] = []
    subscribers: list[SubscriberConfig] = []
    notify: NotifyConfig = NotifyConfig()
    profiles: dict[str, Profile] = {}  # a user's [profiles.NAME]: the `Profile` record itself
    path: str = Field(DEFAULT_PATH, exclude=True)

    @field_validator("profiles", mode="before")
    @classmethod
    def _profile_names(cls, value: Any) -> Any:
        """A `[profiles.NAME]` table is a `Profile` whose name is NAME."""
        if not isinstance(value, dict):
            return value
        return {k: {**v, "name": k} if isinstance(v, dict) else v for k, v in value.items()}

    @field_validator("profiles")
    @classmethod
    def _key_patterns(cls, value: dict[str, Profile]) -> dict[str, Profile]:
        for name, profile in value.items():
            if profile.key is not None and re.compile(profile.key).groups < 1:
                raise _KeyProblem(
                    f"profiles.{name}.key", "the key pattern needs a group, e.g. (\\d+)"
                )
        return value

    @model_validator(mode="after")
    def _references(self) -> Config:
        _unique("boards", [b.name for b in self.boards])
        _unique("subscribers", [s.name for s in self.subscribers])
        names = profiles.known(self.profiles)
        for i, board in enumerate(self.boards):
            if board.profile not in names:
                raise _KeyProblem(
                    f"boards[{i}].profile",
                    f"unknown profile {board.profile!r}; known: {', '.join(names)}",
                )
        boards = {b.name for b in self.boards}
        for i, sub in enumerate(self.subscribers):
            for name in sub.boards or []:
                if name not in boards:
                    raise _KeyProblem(f"subscribers[{i}].boards", f"no board named {name!r}")
        return self

    def known_profiles(self) -> list[str]:
        return profiles.known(self.profiles)

    def profile(self, name: str) -> Profile:
        return profiles.resolve(name, self.profiles)

    def board(self, name: str) -> BoardConfig:
        for board in self.boards:
            if board.name == name:
                return board
        raise ConfigError(self.path, "boards", f"no board named {name!r}")

    def subscriber(self, name: str) -> SubscriberConfig:
        for sub in self.subscribers:
            if sub.name == name:
                return sub
        raise ConfigError(self.path, "subscribers", f"no subscriber named {name!r}")


class _KeyProblem(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def _unique(section: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _KeyProblem(section, f"duplicate name {dupes[0]!r}")


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("SCRAPE_CONFIG") or DEFAULT_PATH)


def load(path: Path, *, secrets: bool = True) -> Config:
    """Read, expand and validate `path`; `$SCRAPE_DATABASE_URL` wins over `[storage] url`.

    `secrets=False` (for `scrape probe`) leaves subscribers, admin targets and the store out:
    reading a board needs none of them, nor their `${VAR}`s.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "", "no such file; create one with `scrape init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    if not secrets:
        data = {k: v for k, v in data.items() if k not in ("subscribers", "storage")}
        if isinstance(data.get("notify"), dict):
            data["notify"] = {k: v for k, v in data["notify"].items() if k != "admin_urls"}
        return validate(path, data)
    data = _expand(path, data)
    if os.environ.get("SCRAPE_DATABASE_URL"):
        data.setdefault("storage", {})["url"] = os.environ["SCRAPE_DATABASE_URL"]
    return validate(path, data)


def validate(path: Path, data: dict[str, Any]) -> Config:
    try:
        return Config.model_validate({**data, "path": str(path)})
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        key = cause.key if isinstance(cause, _KeyProblem) else _key(error["loc"])
        reason = str(cause) if cause else error["msg"]
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        raise ConfigError(path, key, reason) from None


def _key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _expand(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """`${VAR}` in storage.url, subscribers' urls and notify.admin_urls, from the environment."""
    data.get("storage", {}).update(
        _expand_values(path, "storage.url", data.get("storage", {}), "url")
    )
    for i, sub in enumerate(data.get("subscribers", [])):
        if isinstance(sub, dict) and isinstance(sub.get("urls"), list):
            sub["urls"] = [_sub(path, f"subscribers[{i}].urls", u) for u in sub["urls"]]
    notify = data.get("notify", {})
    if isinstance(notify.get("admin_urls"), list):
        notify["admin_urls"] = [_sub(path, "notify.admin_urls", u) for u in notify["admin_urls"]]
    return data


def _expand_values(path: Path, key: str, table: Any, name: str) -> dict[str, Any]:
    if isinstance(table, dict) and isinstance(table.get(name), str):
        return {name: _sub(path, key, table[name])}
    return {}


def _sub(path: Path, key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in os.environ:
            raise ConfigError(path, key, f"environment variable ${{{name}}} is not set")
        return os.environ[name]

    return _VAR.sub(replace, value)
