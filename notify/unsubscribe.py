"""Leaving a subscription: the token that names one subscriber's one target, and what a digest
carries so its reader can leave — the link its body shows and its mail headers (RFC 2369
`List-Unsubscribe`, RFC 8058 one-click `List-Unsubscribe-Post`).

A token is an HMAC-SHA256 of (subscriber, target identity) under the operator's secret: it
cannot be guessed without the secret, and it names that one target — a token of another target,
another subscriber or another secret never matches. The identity is what the target's URL names
apart from its secrets (`notify.masking.identity`), so a link stays good when a password is
rotated. Pure functions: no store, no config.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

from notify.masking import MAIL

PATH = "/unsubscribe/"  # where the daemon's HTTP port takes a token: {public_url}/unsubscribe/TOKEN
LINE_OCTETS = 998  # RFC 5322: a header line, at most, without its CRLF
ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
# a mailbox a mailto: link carries as it is (nothing to percent-encode: see `notify.send`)
_PLAIN_MAILBOX = re.compile(r"^[A-Za-z0-9._+\-]+@[A-Za-z0-9.\-]+$")

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class Leave:
    """How a digest's reader leaves: the link its body shows, its mail headers, and (for media
    without a link) the operator's hint in words."""

    link: str | None = None
    headers: Headers = ()
    hint: str | None = None


def token(secret: str, subscriber: str, identity: str) -> str:
    """The token of `subscriber`'s target `identity` under `secret`: 43 URL-safe characters."""
    message = f"{subscriber}\n{identity}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def matches(given: str, secret: str, subscriber: str, identity: str) -> bool:
    """Is `given` the token of this subscriber's target (compared in constant time)?"""
    expected = token(secret, subscriber, identity).encode()
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)


def by_link(public_url: str, secret: str, subscriber: str, identity: str) -> Leave:
    """A page to leave on: the link, `List-Unsubscribe` to it and one-click POST (RFC 8058)."""
    link = public_url.rstrip("/") + PATH + token(secret, subscriber, identity)
    return Leave(link=link, headers=_fitting((("List-Unsubscribe", f"<{link}>"), ONE_CLICK)))


def by_mail(mailbox: str, subscriber: str) -> Leave:
    """No page to leave on: a mail to the operator's `mailbox` asking to leave (no one-click:
    RFC 8058 needs an https link). Nothing for a mailbox with characters a link must encode."""
    if not _PLAIN_MAILBOX.match(mailbox):
        return Leave()
    link = f"mailto:{mailbox}?subject=unsubscribe:{subscriber}"
    headers = _fitting((("List-Unsubscribe", f"<{link}>"),))
    return Leave(link=link, headers=headers) if headers else Leave()


def _fitting(headers: Headers) -> Headers:
    """The headers, if each fits on one header line in ASCII (else none: a folded or encoded
    List-Unsubscribe is one no mail program reads)."""
    lines = [f"{name}: {value}" for name, value in headers]
    if all(line.isascii() and len(line) <= LINE_OCTETS for line in lines):
        return headers
    return ()


def mailbox(url: str) -> str | None:
    """The address an email target URL sends to first; None for a target that is not email."""
    found = recipients(url)
    return found[0] if found else None


@functools.lru_cache(maxsize=256)
def recipients(url: str) -> tuple[str, ...]:
    """The addresses an email target URL sends to, as Apprise reads it (its `to=`, else the
    account's own address); none for a target that is not email."""
    if url.split("://", 1)[0].lower() not in MAIL:
        return ()
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    targets = getattr(plugin, "targets", None) or []
    return tuple(str(address) for _, address in targets if address)
