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
    # Apprise's own warnings are reported by boardwatch per target; -v shows them as they come.
    logging.getLogger("apprise").propagate = verbose > 0
    logging.captureWarnings(True)


def add_secrets(secrets: Iterable[str]) -> None:
    known = set(SECRETS.secrets) | {s for s in secrets if s}
    SECRETS.secrets = sorted(known, key=len, reverse=True)
