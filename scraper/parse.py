"""Turn a list page into rows and a detail page into details, as a profile describes them."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import etree
from parsel import Selector, SelectorList
from parsel.csstranslator import css2xpath

from scraper import dates
from scraper.items import Attachment, Details, Row
from scraper.profiles import KEY_PATTERNS, NEW_MARKERS, Profile

NOTICE_WORDS = frozenset({"공지", "공지사항", "notice", "[공지]"})
_MARKERS = re.compile(r"(?:\s+(?:new|n|새글|hot)|\s*\[\d+\])+$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_HIDDEN_CLASSES = frozenset(
    {
        "sound_only",
        "blind",
        "sr-only",
        "screen_out",
        "visually-hidden",
        "hidden",
        "hide",
        "mobile",
        "m_only",
        "mobile-only",
        "visible-xs",
        "skip",
    }
)
_DEPARTMENT = re.compile(r"담당\s*부서\s*[:：]\s*(.+)")
SUMMARY_CHARS = 200


def select(root: Selector, query: str) -> SelectorList[Selector]:
    return root.xpath(query) if query.startswith(("/", "./", "(")) else root.css(query)


@functools.lru_cache(maxsize=1024)
def _compiled(query: str) -> etree.XPath:
    return etree.XPath(query if query.startswith(("/", "./", "(")) else css2xpath(query))


def find(node: Any, query: str) -> list[Any]:
    """Matches of a profile selector under an lxml element: elements, or strings for text()."""
    found = _compiled(query)(node)
    return found if isinstance(found, list) else [found]


def text_of(nodes: SelectorList[Selector]) -> str:
    """Visible text, whitespace folded; screen-reader-only and script text left out."""
    return _text(node.root for node in nodes)


def _text(items: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, etree._Element) and not _hidden(item):
            _walk(item, parts)
    return _SPACE.sub(" ", " ".join(parts)).strip()


def _walk(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not _hidden(child):
            _walk(child, parts)
        if child.tail:
            parts.append(child.tail)


def _hidden(element: Any) -> bool:
    if not isinstance(element.tag, str) or element.tag in ("script", "style"):
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    classes = element.get("class")
    return bool(classes) and not _HIDDEN_CLASSES.isdisjoint(classes.split())


def clean_title(text: str) -> str:
    """A title without trailing New / N / 새글 markers and comment counts."""
    return _MARKERS.sub("", _SPACE.sub(" ", text).strip()).strip()


def parse_rows(root: Selector, base_url: str, profile: Profile, now: datetime) -> list[Row]:
    """The posts of one list page, in the page's order; rows without a usable key are skipped."""
    if profile.row == "auto":
        detected = detect(root, profile)
        if detected is None:
            return []
        profile = detected
    rows = []
    for node in find(root.root, profile.row):
        row = parse_row(node, base_url, profile, now) if isinstance(node, etree._Element) else None
        if row is not None:
            rows.append(row)
    return rows


def parse_row(node: Any, base_url: str, profile: Profile, now: datetime) -> Row | None:
    link = next((e for e in find(node, profile.title) if isinstance(e, etree._Element)), None)
    if link is None:
        return None
    number = _cell(node, profile.number)
    key = _key(link, profile, number)
    if key is None:
        return None
    when = _cell(node, profile.date)
    return Row(
        key=key,
        number=_number(number),
        title=_title(link, profile),
        url=_url(link, key, base_url, profile),
        author=_cell(node, profile.author) or None,
        date=dates.resolve(when, now) if when else None,
        views=_int(_cell(node, profile.views)),
        new_marker=bool(profile.new_marker and find(node, profile.new_marker)),
        notice=_is_notice(node, number, profile),
    )


def _title(link: Any, profile: Profile) -> str:
    """The link's visible text without what `drop` names (comment counts, categories …)."""
    if profile.drop and len(link):
        link = copy.deepcopy(link)
        for element in find(link, profile.drop):
            if isinstance(element, etree._Element) and element is not link:
                _remove(element)
    return clean_title(_text([link]))


def _remove(element: Any) -> None:
    """Take `element` out of the tree, keeping the text that follows it."""
    parent, tail = element.getparent(), element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _cell(node: Any, query: str | None) -> str:
    return _text(find(node, query)) if query else ""


def _key(link: Any, profile: Profile, number: str) -> str | None:
    """The post's own id from its link; the number column only when the link carries none."""
    parent = link.getparent()
    texts = [
        link.get("href"),
        link.get("onclick"),
        parent.get("onclick") if parent is not None else None,
    ]
    for pattern in ([profile.key] if profile.key else []) + list(KEY_PATTERNS):
        for text in filter(None, texts):
            if match := re.search(pattern, text):
                return next(group for group in match.groups() if group)
    digits = number.replace(",", "")
    return digits if digits.isdigit() else None


def _url(link: Any, key: str, base_url: str, profile: Profile) -> str:
    href = (link.get("href") or "").strip()
    usable = bool(href) and not href.startswith(("javascript:", "#"))
    if profile.link and not (usable and key in href):
        fields = dict(parse_qsl(urlsplit(base_url).query))
        try:
            return urljoin(base_url, profile.link.format(**{**fields, "key": key}))
        except KeyError:
            pass
    return urljoin(base_url, href) if usable else base_url


def _number(text: str) -> str | None:
    text = text.replace(",", "").strip()
    return text if text.isdigit() else None


def _int(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def _is_notice(node: Any, number: str, profile: Profile) -> bool:
    """공지 / 공지사항 in the number cell, a notice icon, or a row the board marks as a notice."""
    if number.strip().casefold() in NOTICE_WORDS:
        return True
    if profile.notice and find(node, profile.notice):
        return True
    icons = find(node, "./td[1]//img/@alt")
    return any("공지" in alt or "notice" in alt.lower() for alt in icons)


def is_alert_page(root: Selector) -> bool:
    """A "deleted post" answer: HTTP 200 with little more than a script alert."""
    alerts = root.xpath("//script[contains(., 'alert(')]")
    return bool(alerts) and len(text_of(root.xpath("//body"))) < 80


def parse_detail(root: Selector, page_url: str, profile: Profile) -> Details | None:
    """Summary, department, organisation, source link and attachments of one post's page;
    None for a "deleted post" answer."""
    if is_alert_page(root):
        return None
    body = select(root, profile.body)[:1] if profile.body else SelectorList([])
    text = text_of(body)
    return Details(
        summary=summarize(text),
        department=_department(root, profile),
        organisation=_cell(root.root, profile.organisation) or None,
        source_url=_source(body, page_url),
        attachments=_attachments(root, page_url, profile),
    )


def with_details(row: Row, details: Details | None) -> Row:
    """The row completed with what its post page said."""
    if details is None:
        return row
    return Row(**row, **details)


def summarize(text: str) -> str | None:
    text = " ".join(w for w in text.split() if not w.startswith(("http://", "https://")))
    if len(text) <= SUMMARY_CHARS:
        return text or None
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _department(root: Selector, profile: Profile) -> str | None:
    text = _cell(root.root, profile.department) if profile.department else ""
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


def _attachments(root: Selector, page_url: str, profile: Profile) -> list[Attachment]:
    if not profile.attachments:
        return []
    return [
        Attachment(name=text_of(SelectorList([a])), url=urljoin(page_url, a.attrib.get("href", "")))
        for a in select(root, profile.attachments)
    ]


HEADERS = {
    "number": ("번호", "no", "no.", "순번"),
    "title": ("제목",),
    "author": ("글쓴이", "작성자", "등록자", "이름", "작성"),
    "date": ("날짜", "작성일", "등록일", "게시일", "일자"),
    "views": ("조회", "조회수", "조회 수", "hit", "hits"),
}
AUTO_LINK = "//a[@href or @onclick][not(contains(@class, 'cate'))][1]"


def detect(root: Selector, base: Profile) -> Profile | None:
    """`auto`: the table whose header says 제목, its columns read from their labels."""
    for index, table in enumerate(root.xpath("//table"), start=1):
        labels = [text_of(SelectorList([c])).casefold() for c in _header_cells(table)]
        columns = {name: _column(labels, words) for name, words in HEADERS.items()}
        if columns["title"] is None:
            continue
        cell = {k: f"./td[{v}]" for k, v in columns.items() if v is not None}
        return Profile(
            name="auto",
            row=f"(//table)[{index}]/tbody/tr[td] | (//table)[{index}]/tr[td]",
            title=f"./td[{columns['title']}]{AUTO_LINK}",
            key=base.key,
            number=cell.get("number"),
            date=cell.get("date"),
            author=cell.get("author"),
            views=cell.get("views"),
            new_marker=NEW_MARKERS,
            notice=base.notice,
            page_param=base.page_param,
        )
    return None


def _header_cells(table: Selector) -> SelectorList[Selector]:
    cells = table.xpath("./thead/tr[1]/*")
    return cells if cells else table.xpath("(./tr | ./tbody/tr)[1]/th")


def _column(labels: list[str], words: tuple[str, ...]) -> int | None:
    wanted = {w.replace(" ", "") for w in words}
    for position, label in enumerate(labels, start=1):
        if label.replace(" ", "") in wanted:
            return position
    return None
