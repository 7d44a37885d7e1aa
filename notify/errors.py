"""Delivery's one error type: which target (masked) refused, why in our words — the cause — and
Apprise's own words after it, whole."""

from __future__ import annotations

import re
from enum import StrEnum

from records.errors import BoardwatchError


class Cause(StrEnum):
    """Why a target did not take a message, as a user fixes it."""

    TEMPLATE = "the digest template failed"
    TOO_LARGE = "too large for the target"
    AUTH = "authentication refused"
    TLS = "TLS failed"
    DNS = "host not found (DNS)"
    REFUSED = "connection refused"
    TIMEOUT = "timed out"
    OTHER = "not accepted"


# Read off what Apprise and the libraries under it say, in this order (a refused login is told
# apart from a refused connection by its SMTP code; a name that did not resolve is not a refusal).
_CAUSES = (
    (
        Cause.TOO_LARGE,
        r"\(552\b|\b552[ -]|554,? b?'?5\.3\.4|error=413\b|\b413 |too (?:large|long|big)"
        r"|size (?:limit|exceeds)|exceeds (?:the )?(?:fixed )?maximum|msg_too_long|line too long",
    ),
    (
        Cause.AUTH,
        r"\(53[45]\b|\b53[45][ -]5\.7|authenticat|error=40[13]\b|unauthori[sz]ed|invalid_auth"
        r"|invalid_token|not_authed|forbidden",
    ),
    (Cause.TLS, r"\bssl\b|certificate|\btls\b|handshake"),
    (
        Cause.DNS,
        r"name or service not known|nodename nor servname|name ?resolution|getaddrinfo"
        r"|no address associated|failed to resolve",
    ),
    (Cause.REFUSED, r"connection refused|errno 111\b|errno 61\b"),
    (Cause.TIMEOUT, r"timed out|timeout"),
)
_PATTERNS = [(cause, re.compile(pattern, re.IGNORECASE)) for cause, pattern in _CAUSES]
HINTS = {
    Cause.TEMPLATE: "fix the template in [notify] templates (`scrape check` renders each one)",
    Cause.AUTH: "check the user and password in the URL (or the ${VAR} that holds them)",
    Cause.TLS: "check the server's certificate, or the URL's mode= and verify=",
    Cause.DNS: "check the host name in the URL",
    Cause.REFUSED: "is the server up, and the port in the URL right?",
    Cause.TIMEOUT: "the server did not answer in time; it is tried again",
}


def cause_of(text: str) -> Cause:
    for cause, pattern in _PATTERNS:
        if pattern.search(text):
            return cause
    return Cause.OTHER


class DeliveryError(BoardwatchError):
    """A target did not accept a message. `target` is always the masked URL; `reason` starts
    with the cause in our words."""

    def __init__(
        self,
        target: str,
        reason: str,
        hint: str = "",
        subscriber: str = "",
        cause: Cause = Cause.OTHER,
    ) -> None:
        super().__init__(reason, hint)
        self.target, self.reason, self.subscriber = target, reason, subscriber
        self.cause = cause

    @classmethod
    def from_apprise(cls, target: str, said: str) -> DeliveryError:
        """What Apprise said of one call, with its cause in front."""
        cause = cause_of(said)
        return cls(target, f"{cause}: {said}", HINTS.get(cause, ""), cause=cause)

    @property
    def oversized(self) -> bool:
        """Did the target refuse the message as too large (so a smaller one may pass), rather
        than being down or refusing the sender? Only then is a digest split."""
        return self.cause is Cause.TOO_LARGE

    def __str__(self) -> str:
        who = f"{self.subscriber} → " if self.subscriber else ""
        return f"{who}{self.target}: {self.reason}"
