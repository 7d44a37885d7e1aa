"""What the operator says: `scrape.toml` (the models here; the file read in `file`, its keys
and values in `keys` and `values`), the command line (`arguments`), the starter file `init`
writes (`starter`), and what `scrape check` proves the config does (`proof`).

What `scrape.toml` may say: its sections and keys as pydantic models, validated whole.

Every problem is a `ConfigError` naming the file, the key (or the line) and the reason — exit 2,
before any board is crawled: types, ranges, cron expressions (read by APScheduler itself),
regular expressions and selectors (compiled), encodings (looked up), time zones, references.
Single values are checked in `scheduler.config.values`; the file is read, `${VAR}`s expanded and
errors worded in `scheduler.config.file`. Whether Apprise knows each target URL's scheme is
checked where the store is at hand (`scheduler.context`), so a run that knows its targets
already never loads Apprise for it.
"""

from __future__ import annotations

import string
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
    with_config,
)
from pydantic import (
    Strict as PydanticStrict,
)

from notify.masking import mask_url
from records.errors import BoardwatchError
from scheduler.config.values import (
    check_address,
    check_cron,
    check_database,
    check_encoding,
    check_file_place,
    check_folder_place,
    check_origin,
    check_public_url,
    check_quiet_hours,
    check_web_url,
    check_zone,
    interval_in,
    unset_variables,
)
from scraper import profiles
from scraper.profiles import Profile

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


class ConfigError(BoardwatchError):
    """Bad configuration (exit 2): the file, the key (or line) and what is wrong."""

    def __init__(
        self, path: str | Path, key: str, reason: str, *, line: int | None = None, hint: str = ""
    ) -> None:
        where = f"{path}: {key}: " if key else (f"{path}: line {line}: " if line else f"{path}: ")
        super().__init__(where + reason, hint)
        self.path, self.key, self.reason, self.line = str(path), key, reason, line


# A user's [profiles.NAME] is validated as the `Profile` record itself: one schema, no copy.
with_config(ConfigDict(extra="forbid"))(Profile)

# TOML has real types: "8" is not a number, "yes" not a boolean, 1 not text.
Int = Annotated[int, PydanticStrict()]
Float = Annotated[float, PydanticStrict()]
Bool = Annotated[bool, PydanticStrict()]
Text = Annotated[str, PydanticStrict()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Storage(Strict):
    url: Annotated[str, AfterValidator(check_database)] = "sqlite:///boardwatch.db"
    # how long a run's lease on a board or on delivery outlives the run if it is killed elsewhere
    lease_ttl: Annotated[str, interval_in(5, 3600)] = "60s"


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
    robots_ttl: Annotated[str, interval_in(60, 7 * 86400)] = "1d"


class BoardConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=100)
    url: Annotated[str, AfterValidator(check_web_url)] = Field(max_length=2000)
    title: str | None = Field(None, max_length=200)
    profile: str = "esg"
    max_pages: Int = Field(10, ge=1, le=1000)
    interval: Annotated[str, interval_in(1, 30 * 86400)] = "10m"
    cron: Annotated[str, AfterValidator(check_cron)] | None = None
    backfill: Int = Field(0, ge=0, le=1000)
    details: Bool = True
    encoding: Annotated[str, AfterValidator(check_encoding)] = "auto"
    enabled: Bool = True
    # other sites (scheme://host[:port]) the board's own pages live on; nothing else is fetched
    also_fetch: list[Annotated[str, AfterValidator(check_origin)]] = Field([], max_length=20)

    @model_validator(mode="after")
    def _one_schedule(self) -> BoardConfig:
        if self.cron and "interval" in self.model_fields_set:
            raise KeyProblem("cron", "set `interval` or `cron`, not both")
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
    def _urls(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, url in enumerate(value):
            check_target(f"[{i}]", url, info)
        return value

    @field_validator("keywords", "exclude_keywords")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        """A keyword is matched with case, spacing and punctuation aside: one of none but those
        matches nothing (or, excluded, everything), so it is refused."""
        if not value:
            return value
        from storage.ledger import fold

        for i, word in enumerate(value):
            if not fold(word):
                raise KeyProblem(
                    f"[{i}]", f"{word!r} has no letter or digit: it would match nothing"
                )
        return value

    @field_validator("boards")
    @classmethod
    def _some_boards(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty list sends nothing: name boards, or leave it out for all")
        return value


class NotifyConfig(Strict):
    admin_urls: list[Text] = []
    templates: str = ""
    failure_threshold: Int = Field(3, ge=1, le=100)
    send_concurrency: Int = Field(8, ge=1, le=64)  # digests sent at once (each target on its own)
    retry_backoff: Annotated[str, interval_in(10, 86400)] = "1m"
    retry_max_delay: Annotated[str, interval_in(60, 7 * 86400)] = "1h"
    max_digest_posts: Int = Field(50, ge=1, le=500)  # posts in one digest; more go in the next

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: str) -> str:
        if value and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a directory")
        return value

    @field_validator("admin_urls")
    @classmethod
    def _urls(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, url in enumerate(value):
            check_target(f"notify.admin_urls[{i}]", url, info)
        return value


UNSET_OK = "unset_ok"  # validation context: target URLs may hold unset `${VAR}`s (read-only)


def check_target(key: str, url: str, info: ValidationInfo | None = None) -> None:
    """The form every Apprise URL has (which plugin reads it is checked with Apprise later);
    one whose `${VAR}` is unset has no form to check yet (read-only commands only)."""
    if info is not None and (info.context or {}).get(UNSET_OK) and unset_variables(url):
        return
    if "://" not in url:
        raise KeyProblem(key, f"{mask_url(url)!r} is not an Apprise URL like mailto://…")
    host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else ""
    if port.isdigit() and not 0 < int(port) < 65536:  # (a token may follow ":" instead)
        raise KeyProblem(key, f"{mask_url(url)!r}: port {port} is out of range (1-65535)")


class MetricsConfig(Strict):
    # the old name of [http] address (see `Config.http_address`)
    address: Annotated[str, AfterValidator(check_address)] = ""
    # `scrape once` writes the metrics here (node_exporter textfile); "" off
    textfile: Annotated[str, AfterValidator(check_file_place)] = ""


SECRET_CHARS = 16  # a shorter secret could be guessed, and every unsubscribe link forged


class HttpConfig(Strict):
    """What `scrape run` serves: /metrics, /healthz, the status page and the unsubscribe links."""

    address: Annotated[str, AfterValidator(check_address)] = "127.0.0.1:9464"  # "" off
    # where subscribers reach it (a reverse proxy): with it, email digests carry a link to leave
    public_url: Annotated[str, AfterValidator(check_public_url)] = ""
    secret: Text = ""  # signs the unsubscribe links (required with public_url)
    # a "how to leave" line at the end of digests that carry no link (Slack, other non-email)
    leave_hint: Text = Field("", max_length=300)

    @model_validator(mode="after")
    def _signed(self) -> HttpConfig:
        if self.public_url and not self.secret:
            raise KeyProblem(
                "secret",
                "is required with public_url: it signs the unsubscribe links "
                '(e.g. secret = "${BOARDWATCH_SECRET}", set to `openssl rand -hex 32`)',
            )
        if self.secret and len(self.secret) < SECRET_CHARS:
            raise KeyProblem(
                "secret",
                f"is {len(self.secret)} characters long: at least {SECRET_CHARS}, random "
                "(`openssl rand -hex 32`), or links could be forged",
            )
        if any(ord(c) < 32 for c in self.leave_hint):
            raise KeyProblem("leave_hint", "should be one line")
        return self


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
    http: HttpConfig = HttpConfig()
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
                raise KeyProblem(
                    f"boards[{i}].profile",
                    f"unknown profile {board.profile!r}; known: {', '.join(names)}",
                )
        boards = {b.name for b in self.boards}
        for i, sub in enumerate(self.subscribers):
            for name in sub.boards or []:
                if name not in boards:
                    raise KeyProblem(f"subscribers[{i}].boards", f"no board named {name!r}")
        self._one_address()
        return self

    def _one_address(self) -> None:
        old, new = self.metrics.address, self.http.address
        both = _given(self.metrics, "address") and _given(self.http, "address")
        if both and old not in ("", new):
            raise KeyProblem(
                "metrics.address",
                f"is the old name of [http] address, and the two differ ({old!r}, {new!r}): "
                "keep [http] address and remove this one",
            )
        if self.http.public_url and not self.http_address:
            raise KeyProblem(
                "http.address",
                "is off, yet public_url sends subscribers to it: set an address "
                '(like "127.0.0.1:9464"; an empty [metrics] address also turns it off)',
            )

    @property
    def http_address(self) -> str:
        """Where `scrape run` serves ("" off): [http] address; else the old [metrics] address
        when only it is given; else 127.0.0.1:9464."""
        if _given(self.metrics, "address") and not _given(self.http, "address"):
            return self.metrics.address
        return self.http.address

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
        raise KeyProblem(f"profiles.{name}", "needs `row` and `title` (or `headers = true`)")
    for field in SELECTORS:
        query = getattr(profile, field)
        if query:
            try:
                compiled(query)
            except Exception as exc:
                raise KeyProblem(
                    f"profiles.{name}.{field}", f"not a valid selector: {exc}"
                ) from None
    if profile.key is not None:
        _check_key_pattern(name, profile.key)
    if profile.link:
        _check_link(name, profile.link)


# Texts a `key` pattern must read in a moment: a pattern that backtracks on them (nested
# repetition like `((a+)+)+$`) would spend its time limit on every link of every page.
_STRESS = ("a" * 40 + "!", "x=" + "a" * 40 + "!", "1" * 40 + "x", "javascript:" + "(" * 30)


def _check_key_pattern(name: str, pattern: str) -> None:
    import regex

    from scraper.keys import PATTERN_SECONDS

    key = f"profiles.{name}.key"
    try:
        compiled = regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError, MemoryError) as exc:
        raise KeyProblem(key, f"not a valid regular expression: {exc}") from None
    if compiled.groups < 1:
        raise KeyProblem(key, "the key pattern needs a group, e.g. (\\d+)")
    for text in _STRESS:
        try:
            compiled.search(text, timeout=PATTERN_SECONDS)
        except TimeoutError:
            raise KeyProblem(
                key,
                f"too slow: matching it against a {len(text)}-character link takes over "
                f"{PATTERN_SECONDS * 1000:.0f} ms (nested repetition like (a+)+ backtracks); "
                "write it without repeating a repeated group",
            ) from None


LINK_CHARS = 2000  # the longest post address a `link` template may build (with a 20-digit key)


def _check_link(name: str, template: str) -> None:
    """A `link` template holds plain `{key}` / `{NAME}` fields only: no format spec
    (`{key:>99999999}` builds a 100 MB address), no attribute or index (`{key.__class__}`)."""
    key = f"profiles.{name}.link"
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
        specs = [
            spec or conv for _, f, spec, conv in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as exc:
        raise KeyProblem(key, f"not a link template: {exc}") from None
    for field, spec in zip(fields, specs, strict=True):
        if spec or not field.isidentifier():
            raise KeyProblem(
                key,
                f"{{{field}{':' + spec if spec else ''}}}: only plain fields like {{key}} or "
                "{bbsId} (no format, attribute or index)",
            )
    built = template.format(**{field: "9" * 20 for field in fields})
    if len(built) > LINK_CHARS:
        raise KeyProblem(key, f"builds addresses of {len(built)} characters (at most {LINK_CHARS})")


class KeyProblem(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def _given(section: BaseModel, key: str) -> bool:
    """Did the file set `key` in `section` (rather than leave it at its default)?"""
    return key in section.model_fields_set


def _unique(section: str, names: list[str]) -> None:
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        raise KeyProblem(section, f"duplicate name {dupes[0]!r}")
