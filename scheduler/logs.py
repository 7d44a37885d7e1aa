"""Logging to stderr, with every configured secret masked in every record at every level."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from notify.masking import mask_text

LOG = logging.getLogger("boardwatch")
_NOISY = ("scrapy", "twisted", "apprise", "alembic", "asyncio", "protego", "py.warnings")


class SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        if masked != message:
            record.msg, record.args = masked, ()
        return True


SECRETS = SecretFilter()


def setup(verbose: int, quiet: bool) -> None:
    """INFO for boardwatch (one line per run), WARNING for libraries; -v opens both up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SECRETS)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(message)s"
    handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    LOG.setLevel(logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO))
    library = logging.DEBUG if verbose > 1 else (logging.INFO if verbose else logging.WARNING)
    for name in _NOISY:
        logging.getLogger(name).setLevel(library if not quiet else logging.ERROR)
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


def add_secrets(secrets: Iterable[str]) -> None:
    known = set(SECRETS.secrets) | {s for s in secrets if s}
    SECRETS.secrets = sorted(known, key=len, reverse=True)
