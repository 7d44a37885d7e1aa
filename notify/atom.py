"""Atom feeds (RFC 4287) for readers who would rather follow a feed than get mail.

Written with the standard library's ElementTree, which escapes every text and attribute: Atom is
a small fixed format, and the feeds need nothing a feed library adds. An entry's id comes from the
post's identity (board and key), so it stays the same across runs, feeds and title changes; each
file is replaced whole (written beside it, then renamed), so a web server never serves half a feed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

from records.post import StoredPost

ATOM = "http://www.w3.org/2005/Atom"
ID_BASE = "tag:boardwatch,2026:"


@dataclass(frozen=True)
class Feed:
    id: str  # a path under ID_BASE: "board/esg", "subscriber/team"
    title: str
    entries: Sequence[StoredPost]
    link: str | None = None  # the board's page, for a board's feed
    self_url: str | None = None  # where the feed itself is served, when known
    zone: tzinfo = UTC  # where the boards' dates are days (an entry's `published`)


def entry_id(board: str, key: str) -> str:
    return f"{ID_BASE}post/{quote(board, safe='')}/{quote(key, safe='')}"


def atom(feed: Feed, now: datetime) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    updated = max((e["first_seen"] for e in feed.entries), default=now)
    _text(root, "id", ID_BASE + feed.id)
    _text(root, "title", feed.title)
    _text(root, "updated", _time(updated))
    _text(ET.SubElement(root, f"{{{ATOM}}}author"), "name", "boardwatch")
    _text(root, "generator", "boardwatch")
    if feed.link:
        _link(root, feed.link, "alternate")
    if feed.self_url:
        _link(root, feed.self_url, "self")
    for post in feed.entries:
        _entry(ET.SubElement(root, f"{{{ATOM}}}entry"), post, feed.zone)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _entry(entry: ET.Element, post: StoredPost, zone: tzinfo) -> None:
    found = post["first_seen"]  # when boardwatch found it: the entry's `updated`
    dated = datetime.combine(post["date"], time(), zone) if post["date"] else found
    _text(entry, "id", entry_id(post["board"], post["key"]))
    _text(entry, "title", post["title"])
    _link(entry, post["url"], "alternate")
    _text(entry, "updated", _time(found))
    _text(entry, "published", _time(min(dated, found)))
    if post["author"]:
        _text(ET.SubElement(entry, f"{{{ATOM}}}author"), "name", post["author"])
    ET.SubElement(entry, f"{{{ATOM}}}category", term=post["board"], label=post["board_title"])
    if post["summary"]:
        _text(entry, "summary", post["summary"])


def write(path: Path, body: bytes) -> None:
    """Replace `path` with `body` whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = _xml_chars(text)


def _link(parent: ET.Element, href: str, rel: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", rel=rel, href=_xml_chars(href))


def _time(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml_chars(text: str) -> str:
    """Characters XML 1.0 cannot hold at all (control characters a board may send) dropped:
    ElementTree would write them and every reader would refuse the feed."""
    return "".join(
        c
        for c in text
        if c in "\t\n\r"
        or ("\x20" <= c <= "\ud7ff")
        or ("\ue000" <= c <= "\ufffd")
        or c >= "\U00010000"
    )
