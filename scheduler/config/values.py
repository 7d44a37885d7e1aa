"""One value of `scrape.toml` at a time: durations, cron expressions, time zones, quiet hours,
encodings, database and web addresses, places on disk. Each check returns the value or raises
`ValueError` in words for the file's author; `scheduler.config` attaches them to its keys."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

from notify.masking import mask_url

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")  # "${VAR}", read from the environment
_INTERVAL = re.compile(r"^(\d{1,9})(s|m|h|d)$")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def interval_seconds(value: str) -> int:
    match = _INTERVAL.match(value)
    if not match or int(match[1]) == 0:
        raise ValueError(f'{value!r} is not an interval like "45s", "10m" or "2h"')
    return int(match[1]) * _UNITS[match[2]]


def interval_in(low: int, high: int) -> Any:
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


def unset_variables(url: str) -> list[str]:
    """The `${VAR}`s still in a loaded target URL: those a read-only command found unset
    (`scheduler.config.file.load(unset_ok=True)`; any other load refuses them)."""
    return VARIABLE.findall(url)


def check_cron(value: str) -> str:
    """A crontab line as APScheduler itself reads it (weekdays as crontab means them)."""
    from scheduler.policy.due import cron_trigger

    try:
        trigger = cron_trigger(value, ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f'{value!r} is not a cron expression like "0 9 * * 1-5": {exc}') from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ValueError(f"{value!r} never fires (no such date, like 31 February)")
    return " ".join(value.split())


def check_zone(value: str) -> str:
    try:
        if len(value) > 100:
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {short(value)!r} (e.g. Asia/Seoul)") from None
    return value


def short(value: str) -> str:
    """A value as an error quotes it: a long one cut."""
    return value if len(value) <= 60 else value[:57] + "…"


def check_quiet_hours(value: str | None) -> str | None:
    if value is None:
        return None
    start, _, end = value.partition("-")
    first, last = _HHMM.match(start.strip()), _HHMM.match(end.strip())
    if not (first and last):
        raise ValueError(f'{short(value)!r} is not a window like "22:00-07:00"')
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
            f"{short(value)!r} is not a text encoding of web pages (e.g. auto, utf-8, cp949)"
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
        raise ValueError(f"{short(value)!r} cannot be requested: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{short(value)!r} is not an http(s) address with a host")
    if not _HOST.match(parts.hostname):
        raise ValueError(f"{short(value)!r}: {parts.hostname!r} is not a host name")
    if port == 0:
        raise ValueError(f"{short(value)!r} cannot be requested (port 0)")
    return value


_HOST = re.compile(r"^(?:[\w-]+(?:\.[\w-]+)*\.?|\[?[0-9a-f:.]+\]?)$", re.IGNORECASE)


def check_origin(value: str) -> str:
    """A site a board may also fetch from: `https://m.example.kr` (scheme, host, maybe a port;
    no path — a site, not a page)."""
    check_web_url(value)
    if urlsplit(value).path.strip("/") or urlsplit(value).query:
        raise ValueError(f"{short(value)!r} is a page; give the site alone, like https://m.a.kr")
    return value


def check_address(value: str) -> str:
    """`host:port` (`127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`; `:9464` is every
    interface) for the daemon's HTTP port, or empty (off)."""
    if not value:
        return value
    _host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port (like 127.0.0.1:9464)")
    return value


PUBLIC_URL_CHARS = 900  # so a List-Unsubscribe line stays within 998 octets (RFC 5322)
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#@!$&'()*+,;=\[\]]+$")


def check_public_url(value: str) -> str:
    """Where subscribers reach the daemon's HTTP port (behind a reverse proxy): an http(s)
    address with a host, maybe a path; no query, no fragment, nothing a mail header or an
    Apprise URL would have to escape (no spaces, no %-escapes, ASCII only)."""
    if not value:
        return value
    if len(value) > PUBLIC_URL_CHARS:
        raise ValueError(f"is {len(value)} characters long: at most {PUBLIC_URL_CHARS}")
    if not _URL_CHARS.match(value):
        raise ValueError(
            f"{short(value)!r} holds characters a mail header cannot carry as they are (spaces, "
            "%-escapes, non-ASCII): write the address plainly, e.g. https://example.org/boardwatch"
        )
    check_web_url(value)
    if "?" in value or "#" in value:
        raise ValueError(f"{short(value)!r}: give the address without a query or a fragment")
    return value.rstrip("/")


def check_file_place(value: str) -> str:
    """A file boardwatch will write (creating its folder if need be): not a folder, and its
    folder can be one."""
    try:
        folder = bool(value) and Path(value).is_dir()
    except OSError as exc:
        raise ValueError(f"{short(value)!r} is not a usable path: {exc.strerror}") from None
    if folder:
        raise ValueError(f"{short(value)!r} is a folder: give a file in it, like {value}/bw.prom")
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
        raise ValueError(f"{short(value)!r} is not a usable path: {exc.strerror}") from None
    if not folder:
        raise ValueError(f"{short(value)!r} cannot be a folder: {short(str(place))!r} is a file")
    return value
