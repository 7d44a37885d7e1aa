"""One error base for the packages' errors: each is a `BoardwatchError` carrying what to do
(`hint`), and a person reads it as one line, hint last."""

from __future__ import annotations

import pytest

from notify.errors import DeliveryError
from records.errors import BoardwatchError
from scheduler.config import ConfigError
from scraper.errors import CrawlError
from storage.errors import StoreError


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            CrawlError("esg", "http://b.kr/l", "HTTP 503", "try later"),
            "HTTP 503 (http://b.kr/l); try later",
        ),
        (
            StoreError("cannot open the database", "check [storage] url"),
            "cannot open the database; check [storage] url",
        ),
        (
            DeliveryError("mailto://…", "refused", "check the password"),
            "mailto://…: refused; check the password",
        ),
        (
            ConfigError("scrape.toml", "boards[0].url", "not a URL"),
            "scrape.toml: boards[0].url: not a URL",
        ),
    ],
)
def test_each_packages_error_is_one_line_with_what_to_do_last(
    error: BoardwatchError, line: str
) -> None:
    assert isinstance(error, BoardwatchError)
    assert error.shown() == line
