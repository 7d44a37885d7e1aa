"""Delivery through Apprise, one target URL at a time, so each target's answer is known.

`send` returns when the target accepted the message, else raises a `DeliveryError` whose
reason comes from Apprise's own record of that one call (its result and the log lines it
captured for it), never from the process-wide Apprise logger, which other targets' sends write
to at the same time. Callers catch it per target, so one target's refusal stops no other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import quote

from notify.compat import share_apprise_ssl_contexts
from notify.digest import Message
from notify.errors import DeliveryError
from notify.masking import mask_text, mask_url, secrets_of

_DETAIL = ("exception", "refused", "timed out", "error")


def send(url: str, message: Message) -> None:
    """Send `message` to the one target `url`; a fresh Apprise object, so no throttle lingers.
    Raises `DeliveryError` (the target masked) when it is not accepted."""
    import apprise

    share_apprise_ssl_contexts()  # once: see notify.compat
    asset = apprise.AppriseAsset(
        app_id="boardwatch", app_desc="boardwatch digest", async_mode=False
    )
    notifier = apprise.Apprise(asset=asset)
    sent = with_headers(url, message.headers)
    if not notifier.add(sent):
        raise DeliveryError(mask_url(url), "not a valid Apprise URL", "check the URL's form")
    logging.getLogger("apprise").setLevel(logging.DEBUG)  # each call keeps its own detail lines
    try:
        result = notifier.notify(
            body=message.body,
            title=message.title,
            body_format=message.format,
            log_level=logging.DEBUG,
        )
    except Exception as exc:  # a plugin bug must not stop the other targets
        said = masked(f"{type(exc).__name__}: {exc}", url, sent)
        raise DeliveryError.from_apprise(mask_url(url), said) from None
    if not result:
        lines = [(entry.level, entry.message) for service in result for entry in service.logs()]
        raise DeliveryError.from_apprise(mask_url(url), masked(reason_of(lines), url, sent))


def with_headers(url: str, headers: Sequence[tuple[str, str]]) -> str:
    """`url` with mail headers added as Apprise's email plugins take them: `+Name=value` query
    arguments, each value percent-encoded. (Apprise decodes a header value twice, so a `%` of the
    value's own would be lost: ours never hold one — `[http] public_url` may not, and a mailto
    link is written without escapes.)"""
    if not headers:
        return url
    extra = "&".join(f"+{quote(name, safe='-')}={quote(value, safe='')}" for name, value in headers)
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def masked(text: str, url: str, sent: str | None = None) -> str:
    """`text` with `url` (or the URL it was `sent` as, headers added) shown masked and each of
    their secrets hidden (a header value among them)."""
    sent = sent or url
    shown = text.replace(sent, mask_url(url)).replace(url, mask_url(url))
    return mask_text(shown, secrets_of(sent))


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
    return f"{reason} ({one_line(details[-1])})" if details else reason


DETAIL_CHARS = 1000  # a server's answer may be a whole HTML page


def one_line(text: str) -> str:
    """A detail on one line, a page-long one cut at a word (every SMTP answer fits whole)."""
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS].rsplit(" ", 1)[0] + " …"
