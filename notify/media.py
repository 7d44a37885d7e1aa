"""Notification media: one `Medium` record each, registered by name in `MEDIA`.

A medium is how a digest is written for a kind of target: its template, the body format Apprise
is told, and how its Jinja environment escapes board text. `Renderer` builds one environment per
record and `medium_for` picks the record for a target URL by its scheme.

To add a medium: add one `Medium` to `MEDIA` below (its name, the URL schemes that take it, its
template, Apprise format and escaping) and put its template in `notify/templates/`. Nothing else
changes; the table test in `tests/notify/test_digest.py` renders the digest in every medium.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

_SLACK_SPECIAL = re.compile(r"([\\<>\[\]])")


class Raw(str):
    """Text a template may emit as it is in the Slack and text media (already formatted)."""


def blank(value: Any) -> Any:
    """HTML: autoescaping does the escaping; None shows as nothing."""
    return "" if value is None else value


def plain(value: Any) -> str:
    return "" if value is None else str(value)


def slack(value: Any) -> str:
    """Backslash-escape what Slack markdown would read as links or mentions (`&` is Apprise's)."""
    if value is None:
        return ""
    if isinstance(value, (Raw, Markup)):
        return str(value)
    return _SLACK_SPECIAL.sub(r"\\\1", str(value))


def slack_link(url: Any) -> Raw:
    """A link destination for `[label](<url>)`: characters that would end it percent-encoded."""
    return Raw(quote(str(url or ""), safe="/:?&=#%+@,;~!$'*-._"))


def date_filter(value: Any, fmt: str = "%Y-%m-%d") -> str:
    return value.strftime(fmt) if isinstance(value, (date, datetime)) else plain(value)


# Filters every medium's environment has (a user's template of any medium may use them).
COMMON_FILTERS: Mapping[str, Callable[..., Any]] = {"date": date_filter, "link": slack_link}


@dataclass(frozen=True)
class Medium:
    """One way of writing a digest, and the targets that take it."""

    name: str
    template: str  # the digest template, in notify/templates/ (or a user's override folder)
    format: str  # the body format Apprise is told: "html", "markdown" or "text"
    finalize: Callable[[Any], Any]  # every {{ value }} passes through it: the escaper
    schemes: frozenset[str] = frozenset()  # URL schemes sent this medium
    autoescape: bool = False  # Jinja's HTML autoescaping
    headers: bool = False  # it is mail: it carries headers (List-Unsubscribe) and a 구독 해지 link
    filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # beyond the common

    def takes(self, url: str) -> bool:
        return url.split("://", 1)[0].lower() in self.schemes


MEDIA: Mapping[str, Medium] = {
    medium.name: medium
    for medium in (
        Medium(
            "html",
            "digest.html.j2",
            "html",
            blank,
            schemes=frozenset({"mailto", "mailtos"}),
            autoescape=True,
            headers=True,
        ),
        Medium("slack", "digest.slack.j2", "markdown", slack, schemes=frozenset({"slack"})),
        Medium("text", "digest.txt.j2", "text", plain),
    )
}
PLAIN = "text"  # the medium of every other target, of previews, subjects and admin alerts


def medium_for(url: str) -> Medium:
    """The medium a target URL is sent: the first whose schemes include the URL's, else plain."""
    return next((m for m in MEDIA.values() if m.takes(url)), MEDIA[PLAIN])
