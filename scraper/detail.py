"""A post's own page read by its labels: 담당부서, the organisation, the body (→ summary), the
date line, the original release's link and the attachments — and the full title when the list
cut it. A profile's selectors are hints that win where they match.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from records.post import DETAIL_FIELDS, Attachment
from scraper.items import PageRead, Row
from scraper.parse import find
from scraper.profiles import Profile, pooled, pooled_css
from scraper.text import Element, classes, visible

SUMMARY_CHARS = 200
_DATE_LINE = re.compile(r"\(\s*(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?\s+[^()]{0,40}\)")
_URL = re.compile(r"https?://[^\s<>\"'()]+")
_SIZE = re.compile(r"\s*\(\s*[\d.,]+\s*[KMGT]?i?B?\s*\)\s*$", re.IGNORECASE)
_CUT = ("…", "...")
# Where any skin may keep the body, the attachments and the writer; with the families' own
# (`Profile.body`, `downloads`, `writer`), what is read when a profile does not say.
GENERIC_BODY = ".view_content, .view-body, td.cont, .view_text"
GENERIC_FILES = "a[href*='download.do'], a[href*='fileDown'], a[href*='filedown']"
GENERIC_WRITER = "li.writer, .writer, .author, .name"
BODY = f"{pooled_css(lambda profile: profile.body)}, {GENERIC_BODY}"
FILES = f"{pooled_css(lambda profile: profile.downloads)}, {GENERIC_FILES}"
WRITER = f"{pooled_css(lambda profile: profile.writer)}, {GENERIC_WRITER}"
# Class words of a page's prev/next lists and pagers (never the body): any site's, then the
# families' own (`Profile.nav`).
GENERIC_NAV = ("prev", "next", "nav", "pager")
NAV = (*GENERIC_NAV, *pooled(lambda profile: profile.nav))


def is_alert_page(root: Selector) -> bool:
    """A "deleted post" answer: HTTP 200 with little more than a script alert."""
    alerts = root.xpath("//script[contains(., 'alert(')]")
    body = root.root.find(".//body")
    return bool(alerts) and len(visible([body]) if body is not None else "") < 80


def read_detail(root: Selector, page_url: str, profile: Profile, row: Row) -> PageRead | None:
    """What a post's page adds to its list row; None for a "deleted post" answer, and for a
    secret post's password prompt (its words are not the post's)."""
    if is_alert_page(root) or _gated(root.root, profile):
        return None
    body = _body(root.root, profile)
    text = visible([body]) if body is not None else ""
    return PageRead(
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
    bare = re.sub(r"^\s*[\[(][^\])]{1,20}[\])]\s*", "", title)  # without a [category]
    wanted = "".join(bare.rstrip("….").split())[:30]
    if not wanted or _gated(root.root, BUILTIN_NONE):
        return True  # nothing to look for, or a secret post's password prompt
    if is_alert_page(root):
        return False
    texts = [visible([root.root])] + [t.get("content") or "" for t in root.root.iter("meta")]
    head = root.root.find(".//title")
    texts.append(head.text or "" if head is not None else "")
    return any(wanted in "".join(text.split()) for text in texts)


_NOT_A_GATE = re.compile(r"login|signup|comment|member|account", re.IGNORECASE)


def _gated(root: Element, profile: Profile) -> bool:
    """A secret post's page as a visitor gets it: no body, a password form in its place (not
    a login or comment form, which pages carry beside a post)."""
    if find(root, profile.body) or find(root, BODY):
        return False
    for field in root.iter("input"):
        if (field.get("type") or "").lower() != "password":
            continue
        form = next(field.iterancestors("form"), None)
        about = (
            "" if form is None else " ".join(form.get(a) or "" for a in ("action", "id", "name"))
        )
        if not _NOT_A_GATE.search(about + " " + (field.get("name") or "")):
            return True
    return False


BUILTIN_NONE = Profile(name="")  # no selectors: what any page says


def with_details(row: Row, details: PageRead | None, *, vague_date: bool = False) -> Row:
    """The row completed by its page: details, the full title of a cut one, the full date of a
    year-less one."""
    if details is None:
        return row
    done = Row(**row)
    for name in DETAIL_FIELDS:
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
        if any(part in token for token in classes(node) for part in NAV):
            return True
    return False


def _department(root: Element, profile: Profile) -> str | None:
    hinted = find(root, profile.department)
    labels = profile.department_labels
    if hinted:
        text = visible(hinted)
        match = re.search(rf"{_spaced(labels[0])}\s*[:：]?\s*([^\n|]+)", text) if labels else None
        return (match[1].strip(" :：") if match else text) or None
    return labelled(root, labels)


def labelled(root: Element, labels: tuple[str, ...]) -> str | None:
    """The value a post page shows beside one of `labels` — `<th>담당부서</th><td>…</td>` (several
    pairs to a row), `<dt>…</dt><dd>…</dd>`, `<strong>담당부서</strong> …`, `담당부서 : …` — the
    value alone, never the next label or its value."""
    for label in labels:
        for element in root.iter():
            if not isinstance(element.tag, str) or element.tag in ("script", "style"):
                continue
            value = _value_beside(element, label)
            if value:
                return value
    return None


def _value_beside(element: Element, label: str) -> str | None:
    own = _bare(element.text or "") if not len(element) else _bare(visible([element]))
    if own.rstrip(":：") == label:  # the element is the label: its value follows it
        following = element.getnext()
        if element.tag in ("th", "dt") or (following is not None and following.tag in ("td", "dd")):
            return visible([following]) or None if following is not None else None
        return _after(element)
    text = element.text or ""
    if match := re.match(rf"\s*{_spaced(label)}\s*[:：]\s*([^|\n]+)", text):
        return match[1].strip() or None
    return None


def _after(label: Element) -> str | None:
    """What follows an inline label (`<strong>담당부서</strong> : 운영지원과`), up to the next."""
    parts = [label.tail or ""]
    for sibling in label.itersiblings():
        if isinstance(sibling.tag, str) and sibling.tag == label.tag:
            break  # the next label
        parts += [visible([sibling]), sibling.tail or ""]
    return " ".join(" ".join(parts).split()).strip(" :：") or None


def _bare(text: str) -> str:
    return "".join(text.split())


def _spaced(label: str) -> str:
    """A label as a pattern that allows spaces between its letters (`담당 부서`)."""
    return r"\s*".join(re.escape(char) for char in label)


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
