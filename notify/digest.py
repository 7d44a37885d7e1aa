"""Digests: a subscriber's pending entries grouped by board, rendered for each medium.

Board text is escaped by the template environment of each medium (HTML autoescaping, Slack
escaping), so a template, built-in or a user's override, cannot forget it; board text is only
ever data, never template source. The media themselves are records in `notify.media`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2

from notify.media import COMMON_FILTERS, MEDIA, PLAIN, Medium
from notify.unsubscribe import Headers, Leave
from notify.views import (
    BoardAlert,
    BoardView,
    DeliveryAlert,
    DigestContext,
    PostView,
)
from records.post import Entry

TEMPLATES = Path(__file__).parent / "templates"
_LINE_BREAKS = re.compile(r"[\r\n]+")


class TemplateFailed(Exception):
    """A template could not be rendered: which one, and why."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"{template}: {reason}")
        self.template, self.reason = template, reason


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    format: str  # "html", "markdown" or "text", as Apprise declares body formats
    headers: Headers = ()  # mail headers (List-Unsubscribe): email targets only


TITLE_CHARS = 300  # a post title in a digest, at most (a board's title is not ours to trust)
COMPACT_TITLE_CHARS = 100
SUBJECT_CHARS = 120  # an email subject: short enough for every SMTP server's line limits
BOARD_TITLE_CHARS = 40


def build(
    subscriber: str,
    entries: Sequence[Entry],
    generated_at: datetime,
    *,
    compact: bool = False,
    links: Mapping[str, str] | None = None,
    leave: Leave | None = None,
) -> DigestContext:
    """The template context: boards in order of their newest entry, posts and updates apart.
    `compact`: titles shorter, no summaries or attachments (for a target that refused more).
    `links`: each board's list page, which its heading links to. `leave`: how the target's
    reader leaves (its link, or the operator's hint)."""
    boards: dict[str, BoardView] = {}
    for entry in entries:
        board = boards.setdefault(entry["board"], _board(entry, (links or {}).get(entry["board"])))
        view = _post(entry, compact, generated_at)
        board["updated" if entry["updated"] else "posts"].append(view)
    for board in boards.values():
        _pills(board)
    updated = sum(1 for entry in entries if entry["updated"])
    return DigestContext(
        subscriber=subscriber,
        boards=list(boards.values()),
        boards_label=_label([board["title"] for board in boards.values()]),
        count=len(entries),
        new_count=len(entries) - updated,
        updated_count=updated,
        generated_at=generated_at,
        unsubscribe=leave.link if leave else None,
        leave_hint=leave.hint if leave else None,
    )


def _pills(board: BoardView) -> None:
    """A New mark only where it tells something: among new posts only when some are marked New
    and some not (a backlog, a backfill); in the updates, where the board marks a post New."""
    marks = [bool(post["new_marker"]) for post in board["posts"]]
    board["mixed"] = any(marks) and not all(marks)
    for post in board["posts"]:
        post["pill"] = board["mixed"] and bool(post["new_marker"])
    for post in board["updated"]:
        post["pill"] = bool(post["new_marker"])


def _label(titles: list[str]) -> str:
    """The boards a subject names: one or two by title, more as "ESG 정책뉴스 외 9곳"."""
    short = [cap(title, BOARD_TITLE_CHARS) for title in titles]
    if len(short) <= 2:
        return ", ".join(short)
    return f"{short[0]} 외 {len(short) - 1}곳"


def cap(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (with "…") — board text is not ours to trust."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _board(entry: Entry, url: str | None) -> BoardView:
    title = cap(entry["board_title"] or entry["board"], TITLE_CHARS)
    return BoardView(
        name=entry["board"], title=title, url=safe_url(url), posts=[], updated=[], mixed=False
    )


def _post(entry: Entry, compact: bool, now: datetime) -> PostView:
    """Plain post data with titles capped; links that are not http(s) are dropped, so no
    template can emit them."""
    limit = COMPACT_TITLE_CHARS if compact else TITLE_CHARS
    post = PostView(**entry, when=_when(entry, now), pill=False)  # `_pills` sets it, board-wide
    post["title"] = cap(entry["title"], limit)
    post["url"] = safe_url(entry["url"]) or ""
    post["source_url"] = safe_url(entry["source_url"])
    post["attachments"] = [
        {"name": cap(a.get("name") or "", limit), "url": safe_url(a.get("url")) or ""}
        for a in ([] if compact else entry["attachments"] or [])
    ]
    if entry["old_title"] is not None:
        post["old_title"] = cap(entry["old_title"], limit)
    if compact:
        post["summary"] = None
    return post


def _when(entry: Entry, now: datetime) -> str:
    """The post's date as a reader wants it: with the time its page showed, in the digest's
    zone (`2026-12-06 15:16`), else its date alone."""
    posted = entry.get("posted_at")
    if isinstance(posted, datetime):
        return posted.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")
    day = entry.get("date")
    return day.isoformat() if day is not None else ""


def safe_url(url: str | None) -> str | None:
    if not url or urlsplit(url).scheme.lower() not in {"http", "https"}:
        return None
    return quote(url, safe="/:?&=#%+@,;~!$'*-._")


class Renderer:
    """The template environments; a file in `override_dir` replaces the built-in of its name."""

    def __init__(self, override_dir: str | Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)]
        if override_dir:
            loaders.insert(0, jinja2.FileSystemLoader(override_dir))
        loader = jinja2.ChoiceLoader(loaders)
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": jinja2.ChainableUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        self.envs = {name: _environment(medium, common) for name, medium in MEDIA.items()}

    def render(self, template: str, medium: str, context: Mapping[str, object]) -> str:
        """A template rendered; raises `TemplateFailed` naming it when it cannot be (a user's
        override that divides by zero, say): a message is never sent half-made."""
        try:
            return self.envs[medium].get_template(template).render(context)
        except Exception as exc:
            raise TemplateFailed(template, f"{type(exc).__name__}: {exc}") from exc

    def digest(self, context: DigestContext, medium: str, headers: Headers = ()) -> Message:
        """The digest in `medium`; `headers` go with it where the medium carries mail headers."""
        record = MEDIA[medium]
        body = self.render(record.template, medium, context)
        carried = headers if record.headers else ()
        return Message(self.subject(context), body.strip() + "\n", record.format, carried)

    def subject(self, context: DigestContext) -> str:
        """The subject, on one line and within mail limits whatever a template makes of it."""
        return cap(_one_line(self.render("subject.txt.j2", PLAIN, context)), SUBJECT_CHARS)

    def alert(self, alert: BoardAlert | DeliveryAlert, generated_at: datetime) -> Message:
        context = {**alert, "generated_at": generated_at}
        text = self.render("alert.txt.j2", PLAIN, context).strip()
        title, _, body = text.partition("\n")
        return Message(cap(_one_line(title), SUBJECT_CHARS), body.strip() + "\n", "text")


def _environment(medium: Medium, common: Mapping[str, Any]) -> jinja2.Environment:
    env = jinja2.Environment(autoescape=medium.autoescape, finalize=medium.finalize, **common)
    env.filters.update({**COMMON_FILTERS, **medium.filters})
    return env


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()
