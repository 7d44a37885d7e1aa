"""Delivery through Apprise's own SMTP client, secured with STARTTLS: each send honours its own
URL's certificate setting, though boardwatch builds each kind of SSL context only once."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from notify.digest import Message
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
        assert send(url(tls_sink, f"r{n}@example.com", "no"), message(n)) is None
    received = tls_sink.wait_for(3)
    assert [m["To"] for m in received[-3:]] == [f"r{n}@example.com" for n in range(3)]


def test_a_self_signed_certificate_is_refused_when_verification_is_on(
    tls_sink: SmtpSink,
) -> None:
    assert send(url(tls_sink, "before@example.com", "no"), message(0)) is None
    error = send(url(tls_sink, "checked@example.com", "yes"), message(1))
    assert error is not None and PASSWORD not in str(error)
    assert send(url(tls_sink, "after@example.com", "no"), message(2)) is None  # still its own
    assert "checked@example.com" not in [m["To"] for m in tls_sink.messages]


def test_plain_smtp_still_delivers_with_the_shared_contexts_in_place(smtp: SmtpSink) -> None:
    assert send(smtp.url("plain@example.com"), message(0)) is None
    assert smtp.wait_for(1)[0]["To"] == "plain@example.com"
