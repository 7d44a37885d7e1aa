"""Turn a list page into rows and a detail page into details, as a profile describes them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector, SelectorList

from scraper import dates
from scraper.profiles import Profile

NOTICE_WORDS = frozenset({"공지", "공지사항", "notice", "[공지]"})
_MARKERS = re.compile(r"(?:\s+(?:new|n|새글|hot)|\s*\[\d+\])+$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_HIDDEN = (
    "ancestor-or-self::*[contains(concat(' ', normalize-space(@class), ' '), ' sound_only ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' blind ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' sr-only ')"
    " or self::script or self::style]"
)
_DEPARTMENT = re.compile(r"담당\s*부서\s*[:：]\s*(.+)")
SUMMARY_CHARS = 200


def select(root: Selector, query: str) -> SelectorList[Selector]:
    return root.xpath(query) if query.startswith(("/", "./", "(")) else root.css(query)


def text_of(nodes: SelectorList[Selector]) -> str:
    """Visible text, whitespace folded; screen-reader-only and script text left out."""
    parts = nodes.xpath(f".//text()[not({_HIDDEN})]").getall() if nodes else []
    return _SPACE.sub(" ", " ".join(parts)).strip()


def clean_title(text: str) -> str:
    """A title without trailing New / N / 새글 markers and comment counts."""
    return _MARKERS.sub("", _SPACE.sub(" ", text).strip()).strip()


def parse_rows(
    root: Selector, base_url: str, profile: Profile, now: datetime
) -> list[dict[str, Any]]:
    """The posts of one list page, in the page's order; rows without a usable key are skipped."""
    rows = []
    for node in select(root, profile.row):
        row = parse_row(node, base_url, profile, now)
        if row is not None:
            rows.append(row)
    return rows


def parse_row(
    node: Selector, base_url: str, profile: Profile, now: datetime
) -> dict[str, Any] | None:
    link = select(node, profile.title)[:1]
    if not link:
        return None
    number = _cell(node, profile.number)
    key = _key(link, profile, number)
    if key is None:
        return None
    when = _cell(node, profile.date)
    return {
        "key": key,
        "number": _number(number),
        "title": clean_title(text_of(link)),
        "url": _url(link, key, base_url, profile),
        "author": _cell(node, profile.author) or None,
        "date": dates.resolve(when, now) if when else None,
        "views": _int(_cell(node, profile.views)),
        "new_marker": bool(profile.new_marker and select(node, profile.new_marker)),
        "notice": _is_notice(node, number, profile),
    }


def _cell(node: Selector, query: str | None) -> str:
    return text_of(select(node, query)) if query else ""


def _key(link: SelectorList[Selector], profile: Profile, number: str) -> str | None:
    """The post's own id from its link; the number column only when the link carries none."""
    haystack = " ".join(link.xpath("@href | @onclick | ../@onclick").getall())
    if match := re.search(profile.key, haystack):
        return match.group(1)
    digits = number.replace(",", "")
    return digits if digits.isdigit() else None


def _url(link: SelectorList[Selector], key: str, base_url: str, profile: Profile) -> str:
    if profile.link:
        return urljoin(base_url, profile.link.format(key=key))
    href = (link.attrib.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "#")):
        return base_url
    return urljoin(base_url, href)


def _number(text: str) -> str | None:
    text = text.replace(",", "").strip()
    return text if text.isdigit() else None


def _int(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def _is_notice(node: Selector, number: str, profile: Profile) -> bool:
    if number.strip().casefold() in NOTICE_WORDS:
        return True
    return bool(profile.notice and select(node, profile.notice))


def parse_detail(root: Selector, page_url: str, profile: Profile) -> dict[str, Any]:
    """Summary, department, organisation, source link and attachments of one post's page."""
    body = select(root, profile.body)[:1] if profile.body else SelectorList([])
    text = text_of(body)
    return {
        "summary": summarize(text),
        "department": _department(root, profile),
        "organisation": _cell(root, profile.organisation) or None,
        "source_url": _source(body, page_url),
        "attachments": _attachments(root, page_url, profile),
    }


def summarize(text: str) -> str | None:
    text = " ".join(w for w in text.split() if not w.startswith(("http://", "https://")))
    if len(text) <= SUMMARY_CHARS:
        return text or None
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _department(root: Selector, profile: Profile) -> str | None:
    text = _cell(root, profile.department) if profile.department else ""
    match = _DEPARTMENT.search(text)
    return match.group(1).strip() if match else (text or None)


def _source(body: SelectorList[Selector], page_url: str) -> str | None:
    """The first link in the body that leads off the board's site (the original release)."""
    site = urlsplit(page_url).netloc
    for href in body.css("a::attr(href)").getall():
        url = urljoin(page_url, href.strip())
        if url.startswith("http") and urlsplit(url).netloc != site:
            return url
    return None


def _attachments(root: Selector, page_url: str, profile: Profile) -> list[dict[str, str]]:
    if not profile.attachments:
        return []
    return [
        {"name": text_of(SelectorList([a])), "url": urljoin(page_url, a.attrib.get("href", ""))}
        for a in select(root, profile.attachments)
    ]
