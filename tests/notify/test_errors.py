"""A failed send's cause, read off what Apprise and the libraries under it said: one row per
answer seen from a real server (SMTP here, HTTP plugins' requests errors, Slack's API)."""

from __future__ import annotations

import pytest

from notify.errors import Cause, DeliveryError, cause_of

SAID = [
    (
        'Connection error while submitting email to "127.0.0.1" (Socket Exception: (535, '
        "b'5.7.8 Authentication credentials invalid'))",
        Cause.AUTH,
    ),
    (
        'Sending email to "team@example.com" failed. (Socket Exception: (552, b\'5.3.4 Message '
        "size exceeds fixed maximum message size'))",
        Cause.TOO_LARGE,
    ),
    ("Failed to send JSON POST notification: error=413.", Cause.TOO_LARGE),
    ("Failed to send Slack notification: msg_too_long (error=200).", Cause.TOO_LARGE),
    (
        'Sending email to "team@example.com" failed. (Socket Exception: (451, b\'4.3.0 Try '
        "again later'))",
        Cause.OTHER,
    ),
    (
        'Connection error while submitting email to "127.0.0.1" (Socket Exception: [Errno 111] '
        "Connection refused)",
        Cause.REFUSED,
    ),
    (  # "Max retries exceeded" is not a size
        "A Connection error occurred sending JSON notification to 127.0.0.1. (Socket Exception: "
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /hook "
        "(Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=9): Failed to "
        'establish a new connection: [Errno 111] Connection refused")))',
        Cause.REFUSED,
    ),
    (
        'Connection error while submitting email to "nosuchhost.invalid" (Socket Exception: '
        "[Errno -2] Name or service not known)",
        Cause.DNS,
    ),
    (
        "A connection error occurred sending Telegram:1234 notification. (Socket Exception: "
        "HTTPSConnectionPool(host='api.telegram.org', port=443): Max retries exceeded with url: "
        "/bot****/sendMessage (Caused by NameResolutionError(\"HTTPSConnection(host='api."
        "telegram.org', port=443): Failed to resolve 'api.telegram.org' ([Errno -2] Name or "
        'service not known)")))',
        Cause.DNS,
    ),
    (
        'Connection error while submitting email to "127.0.0.1" (Socket Exception: [SSL: '
        "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer "
        "certificate (_ssl.c:1006))",
        Cause.TLS,
    ),
    ("Failed to send Slack notification: invalid_token (error=403).", Cause.AUTH),
    ('Connection error while submitting email to "smtp.example.com" (timed out)', Cause.TIMEOUT),
]


@pytest.mark.parametrize(("said", "cause"), SAID)
def test_each_answer_has_its_cause(said: str, cause: Cause) -> None:
    assert cause_of(said) is cause


@pytest.mark.parametrize(("said", "cause"), SAID)
def test_the_reason_starts_with_the_cause_and_keeps_every_word_apprise_said(
    said: str, cause: Cause
) -> None:
    error = DeliveryError.from_apprise("mailto://bw:****@host/", said)
    assert error.reason == f"{cause}: {said}"
    assert error.oversized is (cause is Cause.TOO_LARGE)
