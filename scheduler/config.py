"""`scrape.toml`: read with tomllib, validated whole with pydantic, `${VAR}` expanded in URLs.

Every problem is a `ConfigError` naming the file, the key (or the line) and the reason — exit 2,
before any board is crawled: types, ranges, cron expressions (read by APScheduler itself),
regular expressions and selectors (compiled), encodings (looked up), time zones, references.
Whether Apprise knows each target URL's scheme is checked where the store is at hand
(`scheduler.targets`), so a run that knows its targets already never loads Apprise for it.
"""

from __future__ import annotations

import codecs
import os
import re
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from pydantic import (
    Strict as PydanticStrict,
)

from notify.masking import mask_url
from scraper import profiles
from scraper.profiles import Profile

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INTERVAL = re.compile(r"^(\d{1,9})(s|m|h|d)$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LINE = re.compile(r"\(at line (\d+)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_PATH = "scrape.toml"
SELECTORS = (
    "row",
    "title",
    "number",
    "date",
    "author",
    "views",
    "new_marker",
    "notice",
    "drop",
    "signature",
    "body",
    "department",
    "organisation",
    "attachments",
)


class ConfigError(Exception):
    """Bad configuration (exit 2): the file, the key (or line) and what is wrong."""

    def __init__(self, path: str | Path, key: str, reason: str, *, line: int | None = None) -> None:
        where = f"{path}: {key}: " if key else (f"{path}: line {line}: " if line else f"{path}: ")
        super().__init__(where + reason)
        self.path, self.key, self.reason, self.line = str(path), key, reason, line


def interval_seconds(value: str) -> int:
    match = _INTERVAL.match(value)
    if not match or int(match[1]) == 0:
        raise ValueError(f'{value!r} is not an interval like "45s", "10m" or "2h"')
    return int(match[1]) * _UNITS[match[2]]


def _interval(low: int, high: int) -> Any:
    """An interval ("45s", "10m", "2h", "1d") between `low` and `high` seconds."""

    def check(value: str) -> str:
        seconds = interval_seconds(value)
        if not low <= seconds <= high:
            raise ValueError(f"{value!r} is out of range: from {_span(low)} to {_span(high)}")
        return value

    return AfterValidator(check)


def _span(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def check_cron(value: str) -> str:
    """A crontab line as APScheduler itself reads it (weekdays as crontab means them)."""
    from scheduler.due import cron_trigger

    try:
        cron_trigger(value, ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f'{value!r} is not a cron expression like "0 9 * * 1-5": {exc}') from None
    return " ".join(value.split())


def check_zone(value: str) -> str:
    try:
        if len(value) > 100:
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {_short(value)!r} (e.g. Asia/Seoul)") from None
    return value


def _short(value: str) -> str:
    """A value as an error quotes it: a long one cut."""
    return value if len(value) <= 60 else value[:57] + "…"


def check_quiet_hours(value: str | None) -> str | None:
    if value is None:
        return None
    start, _, end = value.partition("-")
    first, last = _HHMM.match(start.strip()), _HHMM.match(end.strip())
    if not (first and last):
        raise ValueError(f'{_short(value)!r} is not a window like "22:00-07:00"')
    if (int(first[1]), int(first[2])) == (int(last[1]), int(last[2])):
        raise ValueError(f"{value!r} starts and ends at the same time: an empty window")
    return value


# Codecs Python knows that no web page is written in: escapes, transfer and compression codecs.
_NOT_PAGES = frozenset({"unicode_escape", "raw_unicode_escape", "undefined", "idna", "punycode"})


def check_encoding(value: str) -> str:
    """`auto`, or a text encoding a web page can be written in (ASCII as itself)."""
    if value == "auto":
        return value
    try:
        info = codecs.lookup(value)
        usable = info._is_text_encoding and info.name.replace("-", "_") not in _NOT_PAGES
    except (LookupError, UnicodeError, TypeError, ValueError):
        usable = False
    if not usable:
        raise ValueError(
            f"{_short(value)!r} is not a text encoding of web pages (e.g. auto, utf-8, cp949)"
        )
    return value


def check_database(url: str) -> str:
    """A database URL SQLAlchemy can use (its form and its driver), not yet connected to."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        parsed.get_dialect()
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise ValueError(f"port {parsed.port} is out of range (1-65535)")
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ValueError(
            f"{mask_url(url)!r} is not a database URL boardwatch can use: {exc}"
        ) from None
    except ImportError as exc:
        hint = " (pip install 'boardwatch[postgres]')" if "psycopg" in str(exc) else ""
        raise ValueError(f"no driver for {mask_url(url)!r}: {exc}{hint}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(
            f"{url!r} is a database in memory, which keeps nothing between runs: "
            "give a file, e.g. sqlite:///boardwatch.db"
        )
    return url


def check_web_url(value: str) -> str:
    """An address a board can be fetched from: http(s), a host, a port in range."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{_short(value)!r} cannot be requested: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{_short(value)!r} is not an http(s) address with a host")
    if port == 0:
        raise ValueError(f"{_short(value)!r} cannot be requested (port 0)")
    return value


# A user's [profiles.NAME] is validated as the `Profile` record itself: one schema, no copy.
with_config(ConfigDict(extra="forbid"))(Profile)

# TOML has real types: "8" is not a number, "yes" not a boolean, 1 not text.
Int = Annotated[int, PydanticStrict()]
Float = Annotated[float, PydanticStrict()]
Bool = Annotated[bool, PydanticStrict()]
Text = Annotated[str, PydanticStrict()]


def check_address(value: str) -> str:
    """`host:port` (`:9464`, `0.0.0.0:9464`, `[::1]:9464`) for the metrics server, or empty."""
    if not value:
        return value
    _host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (like 127.0.0.1:9464)")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Storage(Strict):
    url: Annotated[str, AfterValidator(check_database)] = "sqlite:///boardwatch.db"
    # how long a run's lease on a board or on delivery outlives the run if it is killed elsewhere
    lease_ttl: Annotated[str, _interval(5, 3600)] = "60s"


class Crawl(Strict):
    user_agent: Text = Field(
        "boardwatch/0.1 (+https://github.com/boardwatch/boardwatch)", min_length=1
    )
    obey_robots_txt: Bool = True
    concurrency: Int = Field(8, ge=1, le=64)  # requests in flight to one site, at most
    delay: Float = Field(0.0, ge=0, le=60)  # seconds between requests to one site
    timeout: Float = Field(20, gt=0, le=300)
    retries: Int = Field(2, ge=0, le=10)
    retry_backoff: Float = Field(1.0, ge=0, le=60)
    max_page_size: ByteSize = Field(ByteSize(5 * 2**20), ge=64 * 2**10, le=256 * 2**20)
    robots_ttl: Annotated[str, _interval(60, 7 * 86400)] = "1d"


class BoardConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=100)
    url: Annotated[str, AfterValidator(check_web_url)] = Field(max_length=2000)
    title: str | None = Field(None, max_length=200)
    profile: str = "esg"
    max_pages: Int = Field(10, ge=1, le=1000)
    interval: Annotated[str, _interval(1, 30 * 86400)] = "10m"
    cron: Annotated[str, AfterValidator(check_cron)] | None = None
    backfill: Int = Field(0, ge=0, le=1000)
    details: Bool = True
    encoding: Annotated[str, AfterValidator(check_encoding)] = "auto"
    enabled: Bool = True

    @model_validator(mode="after")
    def _one_schedule(self) -> BoardConfig:
        if self.cron and "interval" in self.model_fields_set:
            raise _KeyProblem("cron", "set `interval` or `cron`, not both")
        return self

    @property
    def display_title(self) -> str:
        return self.title or self.name


class SubscriberConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@\-]+$", max_length=100)
    urls: list[Text] = Field(min_length=1)
    boards: list[Text] | None = None
    keywords: list[Text] = []
    exclude_keywords: list[Text] = []
    quiet_hours: Annotated[str | None, AfterValidator(check_quiet_hours)] = None
    digest: str = "immediate"
    include_updates: Bool = False

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        return value if value == "immediate" else check_cron(value)

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for i, url in enumerate(value):
            check_target(f"[{i}]", url)
        return value


class NotifyConfig(Strict):
    admin_urls: list[Text] = []
    templates: str = ""
    failure_threshold: Int = Field(3, ge=1, le=100)
    send_concurrency: Int = Field(8, ge=1, le=64)  # digests sent at once (each target on its own)
    retry_backoff: Annotated[str, _interval(10, 86400)] = "1m"
    retry_max_delay: Annotated[str, _interval(60, 7 * 86400)] = "1h"
    max_digest_posts: Int = Field(50, ge=1, le=500)  # posts in one digest; more go in the next

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: str) -> str:
        if value and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a directory")
        return value

    @field_validator("admin_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for i, url in enumerate(value):
            check_target(f"notify.admin_urls[{i}]", url)
        return value


def check_target(key: str, url: str) -> None:
    """The form every Apprise URL has (which plugin reads it is checked with Apprise later)."""
    if "://" not in url:
        raise _KeyProblem(key, f"{mask_url(url)!r} is not an Apprise URL like mailto://…")
    host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""
    if port.isdigit() and not 0 < int(port) < 65536:  # (a token may follow ":" instead)
        raise _KeyProblem(key, f"{mask_url(url)!r}: port {port} is out of range (1-65535)")


def check_file_place(value: str) -> str:
    """A file boardwatch will write (creating its folder if need be): its folder can be one."""
    if value:
        check_folder_place(str(Path(value).parent))
    return value


def check_folder_place(value: str) -> str:
    """A folder boardwatch will create if need be: it, or its nearest existing parent, must be a
    folder."""
    if not value:
        return value
    place = Path(value)
    try:
        while not place.exists() and place != place.parent:
            place = place.parent
        folder = place.is_dir()
    except OSError as exc:
        raise ValueError(f"{_short(value)!r} is not a usable path: {exc.strerror}") from None
    if not folder:
        raise ValueError(f"{_short(value)!r} cannot be a folder: {_short(str(place))!r} is a file")
    return value


class MetricsConfig(Strict):
    address: Annotated[str, AfterValidator(check_address)] = ""  # daemon: host:port; "" off
    # `scrape once` writes the metrics here (node_exporter textfile); "" off
    textfile: Annotated[str, AfterValidator(check_file_place)] = ""


class FeedsConfig(Strict):
    # an Atom feed per board and per subscriber, written here; "" off
    folder: Annotated[str, AfterValidator(check_folder_place)] = ""
    entries: Int = Field(50, ge=1, le=1000)  # the latest posts in each feed
    base_url: str = Field("", pattern=r"^(https?://\S+)?$")  # where the folder is served, if any


class Config(Strict):
    timezone: Annotated[str, AfterValidator(check_zone)] = "Asia/Seoul"
    storage: Storage = Storage()
    crawl: Crawl = Crawl()
    boards: list[BoardConfig] = []
    subscribers: list[SubscriberConfig] = []
    notify: NotifyConfig = NotifyConfig()
    profiles: dict[str, Profile] = {}  # a user's [profiles.NAME]: the `Profile` record itself
    metrics: MetricsConfig = MetricsConfig()
    feeds: FeedsConfig = FeedsConfig()
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
    def _compiled(cls, value: dict[str, Profile]) -> dict[str, Profile]:
        for name, profile in value.items():
            check_profile(name, profile)
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


def check_profile(name: str, profile: Profile) -> None:
    """Every selector compiles, the key pattern has a group, the link template's fields read."""
    from scraper.parse import compiled

    if not profile.headers and not (profile.row and profile.title):
        raise _KeyProblem(f"profiles.{name}", "needs `row` and `title` (or `headers = true`)")
    for field in SELECTORS:
        query = getattr(profile, field)
        if query:
            try:
                compiled(query)
            except Exception as exc:
                raise _KeyProblem(
                    f"profiles.{name}.{field}", f"not a valid selector: {exc}"
                ) from None
    if profile.key is not None:
        try:
            groups = re.compile(profile.key).groups
        except (re.error, RecursionError, OverflowError, MemoryError) as exc:
            raise _KeyProblem(
                f"profiles.{name}.key", f"not a valid regular expression: {exc}"
            ) from None
        if groups < 1:
            raise _KeyProblem(f"profiles.{name}.key", "the key pattern needs a group, e.g. (\\d+)")
    if profile.link:
        try:
            list(string.Formatter().parse(profile.link))
        except ValueError as exc:
            raise _KeyProblem(f"profiles.{name}.link", f"not a link template: {exc}") from None


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
    """Read, expand and validate `path`; `$SCRAPE_DATABASE_URL` wins over `[storage] url`; a
    relative SQLite path in the file is relative to the file's folder.

    `secrets=False` (for `scrape probe`) leaves subscribers, admin targets and the store out:
    reading a board needs none of them, nor their `${VAR}`s.
    """
    data = read(path)
    if not secrets:
        data = {k: v for k, v in data.items() if k not in ("subscribers", "storage")}
        if isinstance(data.get("notify"), dict):
            data["notify"] = {k: v for k, v in data["notify"].items() if k != "admin_urls"}
        return validate(path, data)
    data = _expand(path, data)
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
    config = validate(path, data)
    if not config.boards and not config.subscribers:
        raise ConfigError(path, "boards", "nothing to do: add a [[boards]] table to watch")
    return config


def read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "", "no such file; create one with `scrape init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        line = _LINE.search(str(exc))
        reason = f"not valid TOML: {exc}"
        raise ConfigError(path, "", reason, line=int(line[1]) if line else None) from None
    except RecursionError:
        raise ConfigError(path, "", "nested too deeply to be a boardwatch config") from None


def _beside(path: Path, url: str) -> str:
    """`sqlite:///boardwatch.db` in /etc/boardwatch/scrape.toml is /etc/boardwatch/boardwatch.db."""
    prefix, _, rest = url.partition(":///")
    if not prefix.startswith("sqlite") or not rest or rest.startswith(("/", ":memory:")):
        return url
    return f"{prefix}:///{(path.resolve().parent / rest).as_posix()}"


def validate(path: Path, data: dict[str, Any]) -> Config:
    _plain_text(path, data, "")
    try:
        config = Config.model_validate({**data, "path": str(path)})
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        key = _key(error["loc"])
        if isinstance(cause, _KeyProblem):
            joined = f"{key}{cause.key}" if cause.key.startswith("[") else f"{key}.{cause.key}"
            key = cause.key if "." in cause.key or key == "" else joined
        reason = str(cause) if cause else _reason(error, key)
        raise ConfigError(path, key, reason) from None
    except RecursionError:
        raise ConfigError(path, "", "nested too deeply to be a boardwatch config") from None
    return config


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
    if kind == "string_type" and key.rsplit(".", 1)[-1] in DURATIONS:
        example = '"45s", "10m" or "2h"'
        return f"should be a duration in quotes with its unit, like {example} (not {given!r})"
    if kind in _TYPES:
        shown = "" if kind in ("missing", "extra_forbidden") else f" (not {_short(repr(given))})"
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


def _expand(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """`${VAR}` in storage.url, subscribers' urls and notify.admin_urls, from the environment.
    Values of the wrong type are left for validation to name."""
    storage = data.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("url"), str):
        storage["url"] = _sub(path, "storage.url", storage["url"])
    subscribers = data.get("subscribers")
    for i, sub in enumerate(subscribers if isinstance(subscribers, list) else []):
        if isinstance(sub, dict) and isinstance(sub.get("urls"), list):
            key = f"subscribers[{i}].urls"
            sub["urls"] = [_sub(path, f"{key}[{j}]", u) for j, u in enumerate(sub["urls"])]
    notify = data.get("notify")
    if isinstance(notify, dict) and isinstance(notify.get("admin_urls"), list):
        urls = notify["admin_urls"]
        notify["admin_urls"] = [
            _sub(path, f"notify.admin_urls[{j}]", u) for j, u in enumerate(urls)
        ]
    return data


def _sub(path: Path, key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in os.environ:
            raise ConfigError(path, key, f"environment variable ${{{name}}} is not set")
        return os.environ[name]

    return _VAR.sub(replace, value)
