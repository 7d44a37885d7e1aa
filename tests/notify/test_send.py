"""Delivery through Apprise's own SMTP client, secured with STARTTLS: each send honours its own
URL's certificate setting, though boardwatch builds each kind of SSL context only once."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from notify.digest import Message
from notify.errors import DeliveryError
from notify.send import send
from tests.support.mail import FROM_ADDR, PASSWORD, USER, SmtpSink


@pytest.fixture(scope="module")
def tls_sink() -> Iterator[SmtpSink]:
    cert = trustme.CA().issue_cert("127.0.0.1")  # signed by a CA no one trusts
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    with SmtpSink(tls=context) as sink:
        yield sink


def url(sink: SmtpSink, to: str, verify: str) -> str:
    return (
        f"mailtos://{USER}:{PASSWORD}@{sink.host}:{sink.port}"
        f"?mode=starttls&from={FROM_ADDR}&to={to}&verify={verify}"
    )


def message(n: int) -> Message:
    return Message(title=f"digest {n}", body=f"post {n}", format="text")


def test_starttls_sends_without_verification_when_the_url_says_so_each_time(
    tls_sink: SmtpSink,
) -> None:
    for n in range(3):
        send(url(tls_sink, f"r{n}@example.com", "no"), message(n))
    received = tls_sink.wait_for(3)
    assert [m["To"] for m in received[-3:]] == [f"r{n}@example.com" for n in range(3)]


def test_a_self_signed_certificate_is_refused_when_verification_is_on(
    tls_sink: SmtpSink,
) -> None:
    send(url(tls_sink, "before@example.com", "no"), message(0))
    with pytest.raises(DeliveryError) as refused:
        send(url(tls_sink, "checked@example.com", "yes"), message(1))
    assert PASSWORD not in str(refused.value) and "certificate" in str(refused.value).lower()
    send(url(tls_sink, "after@example.com", "no"), message(2))  # still its own setting
    assert "checked@example.com" not in [m["To"] for m in tls_sink.messages]


def test_plain_smtp_still_delivers_with_the_shared_contexts_in_place(smtp: SmtpSink) -> None:
    send(smtp.url("plain@example.com"), message(0))
    assert smtp.wait_for(1)[0]["To"] == "plain@example.com"


def test_a_url_apprise_cannot_read_raises_its_error_with_the_secret_masked() -> None:
    with pytest.raises(DeliveryError) as refused:
        send(f"mailto://{USER}:{PASSWORD}@", message(0))
    assert "not a valid Apprise URL" in str(refused.value) and PASSWORD not in str(refused.value)
