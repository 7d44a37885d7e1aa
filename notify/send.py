"""Delivery through Apprise, one target URL at a time, so each target's answer is known.

Sending never raises: it reports whether the target accepted, with a masked reason when not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from notify.digest import Message
from notify.masking import mask_text, secrets_of


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


def send(url: str, message: Message) -> Outcome:
    """Send `message` to the one target `url`; a fresh Apprise object, so no throttle lingers."""
    import apprise

    # one target per call, sent in the calling thread (boardwatch runs its own senders)
    asset = apprise.AppriseAsset(
        app_id="boardwatch", app_desc="boardwatch digest", async_mode=False
    )
    notifier = apprise.Apprise(asset=asset)
    if not notifier.add(url):
        return Outcome(False, "not a valid Apprise URL")
    capture = apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s")  # type: ignore[no-untyped-call]
    with capture as log:
        try:
            accepted = bool(
                notifier.notify(body=message.body, title=message.title, body_format=message.format)
            )
        except Exception as exc:  # a plugin bug must not stop the other targets
            return Outcome(False, mask_text(f"{type(exc).__name__}: {exc}", secrets_of(url)))
    if accepted:
        return Outcome(True)
    return Outcome(False, mask_text(_reason(log.getvalue()), secrets_of(url)))


_DETAIL = ("exception", "refused", "timed out")


def _reason(log: str) -> str:
    """Apprise's warnings, with the low-level detail (SMTP code, HTTP status) it logs as debug."""
    warnings, details = [], []
    for line in log.splitlines():
        level, _, text = line.strip().partition(" ")
        if level in {"WARNING", "ERROR", "CRITICAL"}:
            warnings.append(text)
        elif level == "DEBUG" and any(word in text.lower() for word in _DETAIL):
            details.append(text)
    reason = " ".join(warnings[-2:]) or "the target did not accept the message"
    return f"{reason} ({details[-1][:300]})" if details else reason
