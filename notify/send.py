"""Delivery through Apprise, one target URL at a time, so each target's answer is known.

Sending never raises: it returns None when the target accepted the message, else a
`DeliveryError` whose reason comes from Apprise's own record of that one call (its result and
the log lines it captured for it), never from the process-wide Apprise logger, which other
targets' sends write to at the same time.
"""

from __future__ import annotations

import logging

from notify.digest import Message
from notify.errors import DeliveryError
from notify.masking import mask_text, mask_url, secrets_of

_DETAIL = ("exception", "refused", "timed out", "error")


def send(url: str, message: Message) -> DeliveryError | None:
    """Send `message` to the one target `url`; a fresh Apprise object, so no throttle lingers."""
    import apprise

    asset = apprise.AppriseAsset(
        app_id="boardwatch", app_desc="boardwatch digest", async_mode=False
    )
    notifier = apprise.Apprise(asset=asset)
    if not notifier.add(url):
        return DeliveryError(mask_url(url), "not a valid Apprise URL", "check the URL's form")
    try:
        result = notifier.notify(
            body=message.body,
            title=message.title,
            body_format=message.format,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # a plugin bug must not stop the other targets
        reason = mask_text(f"{type(exc).__name__}: {exc}", secrets_of(url))
        return DeliveryError(mask_url(url), reason)
    if result:
        return None
    lines = [(entry.level, entry.message) for service in result for entry in service.logs()]
    return DeliveryError(mask_url(url), mask_text(reason_of(lines), secrets_of(url)))


def reason_of(lines: list[tuple[str, str]]) -> str:
    """Apprise's warnings for one call, with the low-level detail (SMTP code, HTTP status) it
    logs at debug level."""
    warnings = [text for level, text in lines if level in {"WARNING", "ERROR", "CRITICAL"}]
    details = [
        text
        for level, text in lines
        if level == "DEBUG" and any(word in text.lower() for word in _DETAIL)
    ]
    reason = " ".join(dict.fromkeys(warnings[-2:])) or "the target did not accept the message"
    return f"{reason} ({details[-1][:300]})" if details else reason
