"""A post's own page read by its labels: 담당부서, the organisation, the body (→ summary), the
date line, the original release's link and the attachments — and the full title when the list
cut it. A profile's selectors are hints that win where they match.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Set
from datetime import date, datetime, tzinfo
from urllib.parse import parse_qsl, urljoin, urlsplit

from parsel import Selector

from records.post import DETAIL_FIELDS, Attachment
from scraper.items import PageRead, Row
from scraper.parse import find
from scraper.profiles import Profile
from scraper.text import Element, below, classes, remove, visible
from scraper.vocabulary import Vocabulary, vocabulary

SUMMARY_CHARS = 200
_DATE_LINE = re.compile(r"\(\s*(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?\s+[^()]{0,40}\)")
_URL = re.compile(r"https?://[^\s<>\"'()]+")
_CUT = ("…", "...")


def is_alert_page(root: Selector, words: Vocabulary) -> bool:
    """A "deleted post" answer: HTTP 200 with little more than a script alert."""
    alerts = root.xpath("//script[contains(., 'alert(')]")
    body = root.root.find(".//body")
    return bool(alerts) and len(visible([body], words.hidden) if body is not None else "") < 80


def read_detail(
    root: Selector, page_url: str, profile: Profile, row: Row, zone: tzinfo | None = None
) -> PageRead | None:
    """What a post's page adds to its list row; None for a "deleted post" answer, and for a
    secret post's password prompt (its words are not the post's)."""
    page, words = root.root, vocabulary(profile)
    if is_alert_page(root, words) or _gated(page, profile, words):
        return None
    body = _body(page, profile, words)
    text = visible([body], words.hidden) if body is not None else ""
    return PageRead(
        summary=summarize(text),
        department=_department(page, profile, words),
        organisation=_organisation(page, profile, row, words),
        source_url=_source(body, text, page_url),
        attachments=_attachments(page, page_url, profile, row["url"], words),
        posted_at=_posted_at(page, zone, words),
        title=_full_title(page, row["title"], words),
        date=_date_line(text) or _meta_date(page, words),
    )


def shows(root: Selector, title: str, words: Vocabulary) -> bool:
    """Does a post page show this title (its start, spaces aside; a cut one without the cut)?"""
    bare = re.sub(r"^\s*[\[(][^\])]{1,20}[\])]\s*", "", title)  # without a [category]
    wanted = "".join(bare.rstrip("….").split())[:30]
    if not wanted or _gated(root.root, BUILTIN_NONE, words):
        return True  # nothing to look for, or a secret post's password prompt
    if is_alert_page(root, words):
        return False
    texts = [visible([root.root], words.hidden)]
    texts += [t.get("content") or "" for t in root.root.iter("meta")]
    head = root.root.find(".//title")
    texts.append(head.text or "" if head is not None else "")
    return any(wanted in "".join(text.split()) for text in texts)


_NOT_A_GATE = re.compile(r"login|signup|comment|member|account", re.IGNORECASE)


def _gated(root: Element, profile: Profile, words: Vocabulary) -> bool:
    """A secret post's page as a visitor gets it: no body, a password form in its place (not
    a login or comment form, which pages carry beside a post)."""
    if find(root, profile.body) or find(root, words.body):
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


def _body(root: Element, profile: Profile, words: Vocabulary) -> Element | None:
    for query in (profile.body, words.body):
        found = find(root, query)
        if found:
            return found[0]
    return _densest(root, words.hidden)


def _densest(root: Element, unseen: Set[str]) -> Element | None:
    """The body of a skin no profile knows, read from a copy of the page with its chrome set
    aside (navigation, headers and footers, buttons, input forms such as a comment form or a
    captcha, tables and lists of labels — 제목, 작성자, 작성일 — comment areas, attachment lists,
    pagers): the deepest block whose class says it holds the content (`content`, `body`,
    `view_cont` …) with at least 40 % of the largest such block's text; where no block says so,
    the deepest block holding most of the page's text."""
    body = root.find(".//body")
    page = copy.deepcopy(body if body is not None else root)
    main = _main_content(page, unseen)
    chrome = [e for e in page.iter() if e is not page and _chrome(e) and not _holds(e, main)]
    for element in chrome:
        if element.getparent() is not None and not any(a in chrome for a in below(element, page)):
            remove(element)
    blocks = [(len(visible([e], unseen)), e) for e in page.iter(*_BLOCKS)]
    named = [(size, e) for size, e in blocks if size and _says_content(e)]
    pool = named or blocks
    most = max((size for size, _ in pool), default=0)
    share = 0.4 if named else 0.6
    inner = [e for size, e in pool if most and size >= share * most]
    return max(inner, key=lambda e: sum(1 for _ in e.iterancestors()), default=None)


_BLOCKS = ("div", "td", "section", "article", "main")


def _main_content(page: Element, unseen: Set[str]) -> Element | None:
    """The largest block that says it is the content and is no part of the chrome itself (a
    comment's `comment_187 xe_content` is a comment): what chrome around it must not take."""
    named = [e for e in page.iter(*_BLOCKS) if _says_content(e) and not _chrome(e)]
    sized = ((len(visible([e], unseen)), e) for e in named)
    size, found = max(sized, key=_size, default=(0, None))
    return found if size else None


def _size(pair: tuple[int, Element | None]) -> int:
    return pair[0]


def _holds(element: Element, main: Element | None) -> bool:
    """Does `element` hold the page's main content (a layout's `container fixed_header` wraps
    the post: its class says header, it is no header)?"""
    return main is not None and (main is element or element in main.iterancestors())


_CONTENT_WORDS = re.compile(
    r"^(?:con|cont|content|contents|body|article|post|entry|text|memo|view|detail|document)$",
    re.IGNORECASE,
)


def _says_content(element: Element) -> bool:
    """Does the block's class or id name it the content (`bo_v_con`, `xe_content`, `rd_body`,
    `content-box`, `view_cont`)? Whole words of it, so `container` does not."""
    words = f"{element.get('class') or ''} {element.get('id') or ''}".split()
    return any(_CONTENT_WORDS.match(part) for word in words for part in re.split(r"[-_]", word))


_CHROME_TAGS = frozenset(
    {"nav", "header", "footer", "aside", "button", "select", "textarea", "label", "iframe"}
)
# Class or id words of a page's parts that are not a post's body (whole words of a class).
_CHROME_WORDS = re.compile(
    r"(?:^|[-_])(?:comments?|cmt|replies|reply|nav|navi|navigation|menu|gnb|lnb|snb|tnb|footer|"
    r"header|hd|ft|sidebar|aside|btns?|buttons?|files?|attach|attachments?|share|sns|prev|next|"
    r"pager|paging|pagination|breadcrumbs?|skip|login|search|tags?|related|banner|popup|"
    r"toolbar|util|copyright|info|meta|attr|writer|author|date|hit|tit|title|subject|list|"
    r"feedback|fb|vote|vc)"
    r"(?:$|[-_])",
    re.IGNORECASE,
)
_INPUTS = frozenset({"text", "password", "file", "email", "search", "tel", "url", "number"})


def _chrome(element: Element) -> bool:
    """Is this a part of the page around a post, never its body?"""
    if not isinstance(element.tag, str):
        return False
    if element.tag in _CHROME_TAGS:
        return True
    words = f"{element.get('class') or ''} {element.get('id') or ''}".split()
    if any(_CHROME_WORDS.search(word) for word in words):
        return True
    if element.tag == "form":  # an input form (a comment's, a captcha); not one that wraps
        inputs = [(i.get("type") or "text").lower() for i in element.iter("input")]
        return any(t in _INPUTS for t in inputs) or next(element.iter("textarea"), None) is not None
    if element.tag == "tr":  # a row of a table of labels: 제목 | …, 작성자 | …
        first = next((c for c in element if isinstance(c.tag, str)), None)
        return first is not None and first.tag == "th"
    return False


def _in_nav(element: Element, nav: tuple[str, ...]) -> bool:
    """Is the element in a page's prev/next list or pager (`nav`: their class words)?"""
    for node in (element, *element.iterancestors()):
        if any(part in token for token in classes(node) for part in nav):
            return True
    return False


def _department(root: Element, profile: Profile, words: Vocabulary) -> str | None:
    hinted = find(root, profile.department)
    labels = profile.department_labels
    if hinted:
        text = visible(hinted, words.hidden)
        match = re.search(rf"{_spaced(labels[0])}\s*[:：]?\s*([^\n|]+)", text) if labels else None
        return (match[1].strip(" :：") if match else text) or None
    return labelled(root, labels, words.hidden)


def labelled(root: Element, labels: tuple[str, ...], unseen: Set[str]) -> str | None:
    """The value a post page shows beside one of `labels` — `<th>담당부서</th><td>…</td>` (several
    pairs to a row), `<dt>…</dt><dd>…</dd>`, `<strong>담당부서</strong> …`, `담당부서 : …` — the
    value alone, never the next label or its value."""
    for label in labels:
        for element in root.iter():
            if not isinstance(element.tag, str) or element.tag in ("script", "style"):
                continue
            value = _value_beside(element, label, unseen)
            if value:
                return value
    return None


def _value_beside(element: Element, label: str, unseen: Set[str]) -> str | None:
    own = _bare(element.text or "") if not len(element) else _bare(visible([element], unseen))
    if own.rstrip(":：") == label:  # the element is the label: its value follows it
        following = element.getnext()
        if element.tag in ("th", "dt") or (following is not None and following.tag in ("td", "dd")):
            return visible([following], unseen) or None if following is not None else None
        return _after(element, unseen)
    text = element.text or ""
    if match := re.match(rf"\s*{_spaced(label)}\s*[:：]\s*([^|\n]+)", text):
        return match[1].strip() or None
    return None


def _after(label: Element, unseen: Set[str]) -> str | None:
    """What follows an inline label (`<strong>담당부서</strong> : 운영지원과`), up to the next."""
    parts = [label.tail or ""]
    for sibling in label.itersiblings():
        if isinstance(sibling.tag, str) and sibling.tag == label.tag:
            break  # the next label
        parts += [visible([sibling], unseen), sibling.tail or ""]
    return " ".join(" ".join(parts).split()).strip(" :：") or None


def _bare(text: str) -> str:
    return "".join(text.split())


def _spaced(label: str) -> str:
    """A label as a pattern that allows spaces between its letters (`담당 부서`)."""
    return r"\s*".join(re.escape(char) for char in label)


def _organisation(root: Element, profile: Profile, row: Row, words: Vocabulary) -> str | None:
    """The page's writer when it is not the board account the list shows (ESG: the agency)."""
    for query in (profile.organisation, words.writer):
        for element in find(root, query):
            text = visible([element], words.hidden)
            if text and not _in_nav(element, words.nav):
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


def _attachments(
    root: Element, page_url: str, profile: Profile, post_url: str, words: Vocabulary
) -> list[Attachment]:
    """The post's files as a reader sees them — their names without the sizes and download
    counters skins print beside them — each linked where that link works for anyone: a link
    that carries the crawler's own session token or a nonce (gnuboard's `download.php?…&nonce=`,
    KBoard's `…-nonce=`), or that only a script of the page can follow, is the post's link."""
    links = find(root, profile.attachments) or find(root, words.files)
    found: dict[tuple[str, str], Attachment] = {}
    for link in links:
        name = _file_name(link, words.hidden)
        if not name:
            continue
        url = _download_url(link, page_url) or post_url
        found.setdefault((name, url), Attachment(name=name, url=url))
    return list(found.values())


_COUNTER_CLASS = re.compile(r"size|count|cnt|hit|down|date", re.IGNORECASE)
_COUNTERS = re.compile(
    r"\[[^\]]*(?:size|download|크기|다운로드)[^\]]*\]|\(\s*[\d.,]+\s*(?:[KMGT]i?B?|bytes?|B)?\s*\)",
    re.IGNORECASE,
)


def _file_name(link: Element, unseen: Set[str]) -> str:
    """A download link's name as the reader sees it: the file name, without the size, count or
    date elements and texts beside it (`[File Size:38Bytes/Download:3]`, `(38byte)`, `(0KB)`)."""
    clone = copy.deepcopy(link)
    for inner in [e for e in clone.iter() if e is not clone and isinstance(e.tag, str)]:
        if inner.getparent() is not None and any(_COUNTER_CLASS.search(t) for t in classes(inner)):
            remove(inner)
    return " ".join(_COUNTERS.sub(" ", visible([clone], unseen)).split())


_GO_TO = re.compile(r"location(?:\.href)?\s*=\s*['\"]([^'\"]+)['\"]")
# Query parameters that tie a link to whoever fetched the page: a nonce, a token, a session.
_TIED = re.compile(
    r"nonce|token|csrf|xsrf|session|sess_?id|phpsessid|jsessionid|signature|expires",
    re.IGNORECASE,
)


def _download_url(link: Element, page_url: str) -> str | None:
    """Where a download link leads anyone who opens it (None: only the page's script, or a link
    tied to the crawler's visit, knows)."""
    href = (link.get("href") or "").strip()
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        found = _GO_TO.search(link.get("onclick") or "")  # a button: `location.href = '…'`
        href = found[1] if found else ""
    if not href:
        return None
    url = urljoin(page_url, href)
    names = [name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    return None if any(_TIED.search(name) for name in names) else url


def _full_title(root: Element, listed: str, words: Vocabulary) -> str | None:
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
        if next(element.iterancestors("a"), None) is None and not _in_nav(element, words.nav):
            text = visible([element], words.hidden) if element.tag != "title" else element.text
            texts.append(text or "")
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


def _meta_date(root: Element, words: Vocabulary) -> date | None:
    """The post's date as its page shows it beside the title (a class that says date)."""
    for element in root.iter():
        if not isinstance(element.tag, str) or _in_nav(element, words.nav):
            continue
        dated = any("date" in token for token in classes(element))
        if dated and (match := _FULL_DATE.search(visible([element], words.hidden))):
            year = int(match[1]) + (2000 if len(match[1]) == 2 else 0)
            try:
                return date(year, int(match[2]), int(match[3]))
            except ValueError:
                continue
    return None


_STAMP = re.compile(
    r"(?<!\d)(\d{4}|\d{2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?\s+(\d{1,2}):(\d{2})(?!\d)"
)
_WHEN_CLASS = re.compile(r"date|time|regdate|datetime|when", re.IGNORECASE)


def _posted_at(root: Element, zone: tzinfo | None, words: Vocabulary) -> datetime | None:
    """When the post was written, to the minute, as its page shows it beside the title (an
    element whose class says date or time: `2026-12-06 15:16`, `2026.12.06 15:16`), in the
    board's time zone; None where the page shows no time."""
    for element in root.iter():
        if not isinstance(element.tag, str) or _in_nav(element, words.nav):
            continue
        if not any(_WHEN_CLASS.search(token) for token in classes(element)):
            continue
        if match := _STAMP.search(visible([element], words.hidden)):
            year = int(match[1]) + (2000 if len(match[1]) == 2 else 0)
            try:
                month, day, hour, minute = (int(match[i]) for i in range(2, 6))
                return datetime(year, month, day, hour, minute, tzinfo=zone)
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
