"""Logging to stderr, with every configured secret masked in every record at every level."""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from notify.masking import candidates, mask_text, mask_url, secrets_of

LOG = logging.getLogger("boardwatch")
# an unsubscribe link's token (it stops a target's digests), as it is or URL-encoded (Apprise's
# debug lines print a digest's mail headers)
_UNSUBSCRIBE_TOKEN = re.compile(r"(unsubscribe(?:/|%2F))[A-Za-z0-9_-]{43}", re.IGNORECASE)
_OWN = ("boardwatch", "boards", "scraper")  # boardwatch, its spider, its pipeline
_NOISY = (
    "scrapy",
    "twisted",
    "alembic",
    "asyncio",
    "protego",
    "py.warnings",
    "apscheduler",
    "urllib3",
    "filelock",
    "sqlalchemy",
)


class SecretFilter(logging.Filter):
    """Masks every configured URL's secrets in each record. A record is masked for real (with
    Apprise's knowledge of each URL form) only when it holds a candidate piece of one."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.fixed: list[str] = []  # secrets known outright (a database password)
        self._candidates: list[str] = []
        self._secrets: list[str] | None = None
        self._busy = threading.local()  # learning the secrets (which makes Apprise log)

    def add(self, urls: Iterable[str], secrets: Iterable[str] = ()) -> None:
        self.urls += [u for u in urls if u not in self.urls]
        self.fixed += [s for s in secrets if s and s not in self.fixed]
        self._candidates = sorted(
            {c for url in self.urls for c in candidates(url)} | set(self.fixed), key=len
        )
        self._secrets = None

    def mask(self, text: str) -> str:
        text = _UNSUBSCRIBE_TOKEN.sub(r"\1****", text)
        if not any(c in text for c in self._candidates):
            return mask_text(text)
        if self._secrets is None:
            if getattr(self._busy, "on", False):  # Apprise, asked for the secrets, logs itself
                return mask_text(text, self._candidates[::-1])  # every candidate: a superset
            self._busy.on = True
            try:
                found = {s for url in self.urls for s in secrets_of(url)} | set(self.fixed)
            finally:
                self._busy.on = False
            self._secrets = sorted(found, key=len, reverse=True)
        for url in sorted(self.urls, key=len, reverse=True):
            if url in text:
                text = text.replace(url, mask_url(url))
        return mask_text(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(self._busy, "on", False):
            return False  # Apprise reading a URL for us to learn its secrets: not news, and
            # only maskable by masking every piece of every URL (hosts, paths) with it
        message = record.getMessage()
        masked = self.mask(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if masked != message:
            record.msg, record.args = masked, ()
        return True


SECRETS = SecretFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object a line — time, level, logger, board or subscriber when the line is about
    one, message (masked like every text line), traceback with -v — for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        for key in ("board", "subscriber", "target"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = str(value)
        line["message"] = record.getMessage()
        if record.exc_text:
            line["traceback"] = record.exc_text
        return jsonlib.dumps(line, ensure_ascii=False)


def setup(verbose: int, quiet: bool, *, timestamps: bool = False, json: bool = False) -> None:
    """boardwatch's own lines: INFO (one per board run and per digest), WARNING and up with -q
    (every failure, one line each, naming the board or subscriber), DEBUG with -v. Libraries
    speak only with -v (-vv: debug): boardwatch reports what failed in its own words. Tracebacks
    appear only with -v. `timestamps` (the daemon, a log file) puts the time on each line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SECRETS)
    if verbose:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    elif timestamps:
        fmt = "%(asctime)s %(levelname)s %(message)s"
    else:
        fmt = "%(message)s"
    formatter = JsonFormatter() if json else logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    own = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    for name in _OWN:
        logging.getLogger(name).setLevel(own)
    library = logging.DEBUG if verbose > 1 else (logging.INFO if verbose else logging.CRITICAL)
    for name in _NOISY:
        logging.getLogger(name).setLevel(library)
    # SQLAlchemy at INFO echoes every statement: only -vv shows SQL
    logging.getLogger("sqlalchemy").setLevel(logging.INFO if verbose > 1 else logging.WARNING)
    _apprise(handler, verbose)
    logging.captureWarnings(True)


def _apprise(handler: logging.Handler, verbose: int) -> None:
    """Apprise records everything (each send keeps its own lines for its target's error); none
    of it reaches the terminal without -v, since boardwatch reports each target's outcome."""
    apprise = logging.getLogger("apprise")
    apprise.setLevel(logging.DEBUG)
    apprise.propagate = False
    shown = logging.DEBUG if verbose > 1 else logging.WARNING
    apprise.handlers[:] = [_AtLeast(handler, shown)] if verbose else []


class _AtLeast(logging.Handler):
    """Passes records of `level` and above on to `target`."""

    def __init__(self, target: logging.Handler, level: int) -> None:
        super().__init__(level)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        self.target.handle(record)


def add_secrets(urls: Iterable[str], secrets: Iterable[str] = ()) -> None:
    """Mask these URLs' secrets (and these secrets) in every log record from now on."""
    SECRETS.add(urls, secrets)
