"""A post's own page read by its labels: 담당부서, the organisation, the body (→ summary), the
date line, the original release's link and the attachments — and the full title when the list
cut it. A profile's selectors are hints that win where they match.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from scraper.items import Attachment, Details, Row
from scraper.parse import find
from scraper.profiles import Profile
from scraper.text import Element, classes, visible

SUMMARY_CHARS = 200
_DEPARTMENT = re.compile(r"담당\s*부서\s*[:：]?\s*([^\n|]+)")
_DATE_LINE = re.compile(r"\(\s*(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?\s+[^()]{0,40}\)")
_URL = re.compile(r"https?://[^\s<>\"'()]+")
_SIZE = re.compile(r"\s*\(\s*[\d.,]+\s*[KMGT]?i?B?\s*\)\s*$", re.IGNORECASE)
_CUT = ("…", "...")
# Where the engines keep the body, and the attachments, when a profile does not say.
BODY = (
    "#bo_v_con, .view_content, .view-body, .view_cont, .xe_content, .rd_body, "
    ".kboard-content, td.cont, .board_view .cont, .bbs_view .view_text, .view_text"
)
FILES = (
    "a[href*='download.php'], a[href*='download.do'], a[href*='fileDown'], "
    "a[href*='FileDown'], a[href*='filedown'], a[href*='atchFileId'], "
    "a[href*='procFileDownload'], a.view_file_download, a[href*='file_download']"
)
WRITER = ".if_name, li.writer, .writer, .sv_member, .author, .name"
_NAV = ("prev", "next", "bo_v_nb", "nav", "pager")


def is_alert_page(root: Selector) -> bool:
    """A "deleted post" answer: HTTP 200 with little more than a script alert."""
    alerts = root.xpath("//script[contains(., 'alert(')]")
    body = root.root.find(".//body")
    return bool(alerts) and len(visible([body]) if body is not None else "") < 80


def read_detail(root: Selector, page_url: str, profile: Profile, row: Row) -> Details | None:
    """What a post's page adds to its list row; None for a "deleted post" answer."""
    if is_alert_page(root):
        return None
    body = _body(root.root, profile)
    text = visible([body]) if body is not None else ""
    return Details(
        summary=summarize(text),
        department=_department(root.root, profile),
        organisation=_organisation(root.root, profile, row),
        source_url=_source(body, text, page_url),
        attachments=_attachments(root.root, page_url, profile),
        title=_full_title(root.root, row["title"]),
        date=_date_line(text) or _meta_date(root.root),
    )


def shows(root: Selector, title: str) -> bool:
    """Does a post page show this title (its start, spaces aside; a cut one without the cut)?"""
    wanted = "".join(title.rstrip("….").split())[:30]
    if is_alert_page(root) or not wanted:
        return not wanted
    texts = [visible([root.root])] + [t.get("content") or "" for t in root.root.iter("meta")]
    head = root.root.find(".//title")
    texts.append(head.text or "" if head is not None else "")
    return any(wanted in "".join(text.split()) for text in texts)


def with_details(row: Row, details: Details | None, *, vague_date: bool = False) -> Row:
    """The row completed by its page: details, the full title of a cut one, the full date of a
    year-less one."""
    if details is None:
        return row
    done = Row(**row)
    for name in ("summary", "department", "organisation", "source_url", "attachments"):
        done[name] = details[name]  # type: ignore[literal-required]
    if details["title"]:
        done["title"] = details["title"]
    if vague_date and details["date"]:
        done["date"] = details["date"]
    return done


def summarize(text: str) -> str | None:
    text = " ".join(w for w in text.split() if not w.startswith(("http://", "https://")))
    if len(text) <= SUMMARY_CHARS:
        return text or None
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _body(root: Element, profile: Profile) -> Element | None:
    for query in (profile.body, BODY):
        found = find(root, query)
        if found:
            return found[0]
    return _densest(root)


def _densest(root: Element) -> Element | None:
    """The deepest block that holds most of the page's text: the body of an unknown skin."""
    blocks = [e for e in root.iter("div", "td", "section", "article") if not _in_nav(e)]
    sized = [(len(visible([e])), e) for e in blocks]
    most = max((size for size, _ in sized), default=0)
    inner = [e for size, e in sized if most and size >= 0.6 * most]
    return max(inner, key=lambda e: sum(1 for _ in e.iterancestors()), default=None)


def _in_nav(element: Element) -> bool:
    for node in (element, *element.iterancestors()):
        if any(part in token for token in classes(node) for part in _NAV):
            return True
    return False


def _department(root: Element, profile: Profile) -> str | None:
    hinted = find(root, profile.department)
    texts = [visible(hinted)] if hinted else []
    texts += [visible([e]) for e in _labelled(root, "담당부서")]
    for text in texts:
        if match := _DEPARTMENT.search(text):
            return match[1].strip(" :：") or None
    return texts[0] if hinted and texts[0] else None


def _labelled(root: Element, label: str) -> list[Element]:
    """The smallest elements whose text holds `label` (spaces ignored), label and value both."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        own = "".join(element.itertext()).replace(" ", "").replace("\xa0", "")
        if label in own and len(own) < 120:
            found.append(element)
    parents = [e.getparent() for e in found if e.getparent() is not None]
    return sorted({*found, *parents}, key=lambda e: len(visible([e])))


def _organisation(root: Element, profile: Profile, row: Row) -> str | None:
    """The page's writer when it is not the board account the list shows (ESG: the agency)."""
    for query in (profile.organisation, WRITER):
        for element in find(root, query):
            text = visible([element])
            if text and not _in_nav(element):
                return text if text != row.get("author") else None
    return None


def _source(body: Element | None, text: str, page_url: str) -> str | None:
    """The first address in the body that leads off the board's site (the original release)."""
    site = urlsplit(page_url).netloc
    hrefs: list[str] = [a.get("href") or "" for a in body.iter("a")] if body is not None else []
    plain: list[str] = _URL.findall(text)
    for candidate in [*hrefs, *plain]:
        url = urljoin(page_url, candidate.strip())
        if url.startswith("http") and urlsplit(url).netloc not in ("", site):
            return url
    return None


def _attachments(root: Element, page_url: str, profile: Profile) -> list[Attachment]:
    links = find(root, profile.attachments) or find(root, FILES)
    found: dict[str, Attachment] = {}
    for link in links:
        clone = [c for c in link.iter() if "size" in classes(c)]
        name = visible([link])
        for size in clone:
            name = name.replace(visible([size]), "")
        url = urljoin(page_url, link.get("href") or "")
        found.setdefault(url, Attachment(name=_SIZE.sub("", name).strip(), url=url))
    return list(found.values())


def _full_title(root: Element, listed: str) -> str | None:
    """The page's full title when the list showed it cut (`…` or `...`): the shortest text on
    the page that starts like it and is not cut itself (the page's <title> often carries it,
    followed by " > board | site")."""
    if not listed.endswith(_CUT):
        return None
    prefix = listed.rstrip("….").strip()
    texts = [e.get("content") or "" for e in root.iter("meta")]
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("a", "script", "style"):
            continue
        if next(element.iterancestors("a"), None) is None and not _in_nav(element):
            texts.append(visible([element]) if element.tag != "title" else element.text or "")
    found = {_without_site(text, prefix) for text in texts if text.startswith(prefix)}
    whole = [t for t in found if len(t) > len(prefix) and not t.endswith(_CUT)]
    return min(whole, key=len, default=None)


def _without_site(text: str, prefix: str) -> str:
    """A page title without the board and site names engines append to it."""
    head, tail = text[: len(prefix)], text[len(prefix) :]
    for separator in (" > ", " | ", " :: "):
        tail = tail.split(separator, 1)[0]
    return (head + tail).strip()


_FULL_DATE = re.compile(r"(?<!\d)(\d{4}|\d{2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?!\d)")


def _meta_date(root: Element) -> date | None:
    """The post's date as its page shows it beside the title (a class that says date)."""
    for element in root.iter():
        if not isinstance(element.tag, str) or _in_nav(element):
            continue
        dated = any("date" in token for token in classes(element))
        if dated and (match := _FULL_DATE.search(visible([element]))):
            year = int(match[1]) + (2000 if len(match[1]) == 2 else 0)
            try:
                return date(year, int(match[2]), int(match[3]))
            except ValueError:
                continue
    return None


def _date_line(text: str) -> date | None:
    """The release's date line, e.g. `(2024.04.08 산업통상자원부)`."""
    match = _DATE_LINE.search(text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
