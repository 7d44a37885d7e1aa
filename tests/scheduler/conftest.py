"""Fixtures for the tests of sending (delivery, preview, admin alerts): a fresh database and a
second SMTP server that refuses everything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import close_all
from tests.scheduler.desk import Desk
from tests.support.mail import SmtpSink


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield Desk(tmp_path)
    close_all()


@pytest.fixture
def refusing() -> Iterator[SmtpSink]:
    """A second SMTP server, one that refuses every message."""
    with SmtpSink() as sink:
        sink.fail_with = "451 4.3.0 Try again later"
        yield sink
