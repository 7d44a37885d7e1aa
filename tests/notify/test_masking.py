"""Secrets inside URLs are masked; what identifies the target stays readable."""

from __future__ import annotations

import pytest

from notify.masking import mask_text, mask_url, secrets_of

CASES = [
    (
        "mailto://bw:s3cretPW@smtp.example.com:2525?from=a@example.com&to=b@example.com",
        "mailto://bw:****@smtp.example.com:2525?from=a@example.com&to=b@example.com",
    ),
    (
        "mailtos://user:app-pass@smtp.gmail.com?to=team@example.com",
        "mailtos://user:****@smtp.gmail.com?to=team@example.com",
    ),
    ("slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts", "slack://t0…/****"),
    (
        "https://hooks.example.com/services/T/B/secret?token=abcd",
        "https://hooks.example.com/****?token=****",
    ),
    (
        "postgresql+psycopg://bw:dbpass@db.internal/boardwatch",
        "postgresql+psycopg://bw:****@db.internal/boardwatch",
    ),
    ("sqlite:///boardwatch.db", "sqlite:///boardwatch.db"),
    ("not a url", "****"),
]


@pytest.mark.parametrize(("url", "masked"), CASES)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_text_hides_passwords_and_known_secrets() -> None:
    url = "slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts"
    text = f"posting to https://hooks.slack.com/services/T0BWTEST1/B0BWTEST2/xoxSECRETtoken123 for {url}"
    masked = mask_text(text + " and mailto://bw:pw12345@host", secrets_of(url))
    assert "xoxSECRETtoken123" not in masked and "B0BWTEST2" not in masked
    assert "pw12345" not in masked and "mailto://bw:****@host" in masked
