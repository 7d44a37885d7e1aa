"""Turn a list page into rows, or refuse it: the rows of the board's list, with the key each
post's link carries, its clean title, New and notice markers, number, date, author and views.

Built-in profiles read tables by their header labels (`scraper.tables`); a profile's selectors
are hints that win where they match, never a requirement. A page is refused, not misread, when
its rows share a key under different titles, when some rows could only be keyed by their running
number, or when a post's address cannot be known.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from parsel import Selector
from parsel.csstranslator import css2xpath

from scraper import dates, keys
from scraper.items import Row
from scraper.profiles import Profile
from scraper.tables import Layout, find_layout
from scraper.text import Element, classes, is_element, remove, visible

NOTICE_WORDS = frozenset({"공지", "공지사항", "notice", "[공지]", "필독"})
MARKER_WORDS = frozenset({"new", "n", "새글", "hot"})
_TRAILING = re.compile(r"(?:\s+(?:new|n|새글|hot)|\s*\[\d+\])+$", re.IGNORECASE)
_NEW_CLASS = re.compile(r"(?:^|[-_])new(?:$|[-_])")
_NEW_SRC = re.compile(r"(?:^|[/_\-.])new(?:[_\-.\d]|$)", re.IGNORECASE)
_NOT_TITLE_LINK = frozenset(
    {"category", "cate", "bo_cate_link", "replynum", "cnt_cmt", "comment", "cmt", "sv_member"}
)
_COUNT = re.compile(r"^[\[(]?\d+[\])]?$")
_YEAR = re.compile(r"\d{4}\s*[-./]|^\d{2}[-./]\d{1,2}[-./]\d{1,2}")


@functools.lru_cache(maxsize=1024)
def compiled(query: str) -> etree.XPath:
    """A profile selector as compiled XPath (CSS is translated); raises if it is not valid."""
    return etree.XPath(query if query.startswith(("/", "./", "(")) else css2xpath(query))


def find(node: Element, query: str | None) -> list[Element]:
    """Elements a profile selector (CSS, or XPath from `/`, `./` or `(`) matches under `node`."""
    if not query:
        return []
    found = compiled(query)(node)
    return [e for e in (found if isinstance(found, list) else [found]) if is_element(e)]


def select(root: Selector, query: str) -> list[Element]:
    return find(root.root, query)


@dataclass
class ListPage:
    """One list page read with one profile: its posts, or why it must be refused."""

    rows: list[Row] = field(default_factory=list)
    vague_dates: set[str] = field(default_factory=set)  # keys whose list date had no year
    problem: str | None = None
    hinted: bool = False  # the profile's own selectors found the rows
    family: int = 0  # how much of the profile's engine the page shows (its `signature`, ≤ 10)

    @property
    def score(self) -> tuple[int, int, int, int]:
        """How well the page was read: usable rows, rows with a date, the profile's engine,
        its own selectors."""
        if self.problem:
            return (0, 0, 0, 0)
        dated = sum(1 for row in self.rows if row["date"])
        return (len(self.rows), dated, self.family, int(self.hinted))


@dataclass
class _Context:
    base_url: str
    profile: Profile
    now: datetime
    layout: Layout | None
    scripts: dict[str, tuple[str, str]]


def read_list(root: Selector, base_url: str, profile: Profile, now: datetime) -> ListPage:
    """The posts of one list page in the page's order, or the reason it cannot be read right."""
    hints = find(root.root, profile.row)
    layout = find_layout(root.root, hints) if profile.headers else None
    nodes = layout.rows if layout is not None else hints
    context = _Context(base_url, profile, now, layout, keys.script_urls(root.root))
    page = ListPage(
        hinted=bool(hints) and (layout is None or layout.hinted),
        family=min(len(find(root.root, profile.signature)), 10),
    )
    parsed = [parsed for node in nodes if (parsed := _row(node, context))]
    return _checked(page, parsed)


def parse_rows(root: Selector, base_url: str, profile: Profile, now: datetime) -> list[Row]:
    """The rows of a page that can be read right (none when it must be refused)."""
    page = read_list(root, base_url, profile, now)
    return [] if page.problem else page.rows


def choose(
    root: Selector, base_url: str, profiles: Sequence[Profile], now: datetime
) -> tuple[Profile, ListPage] | None:
    """The profile that reads the page best (more posts, more dates, its own selectors)."""
    pages = [(p, read_list(root, base_url, p, now)) for p in profiles]
    best = max(pages, key=lambda pair: pair[1].score, default=None)
    return best if best is not None and best[1].score[0] else None


@dataclass
class _Parsed:
    row: Row
    kind: keys.Kind
    vague: bool
    url_known: bool


def _row(node: Element, ctx: _Context) -> _Parsed | None:
    title_cell = ctx.layout.cell(node, "title") if ctx.layout else None
    element = _title_element(node, title_cell, ctx.profile)
    if element is None:
        return None
    number = _field(node, "number", ctx)
    link = keys.link_of(element, node)
    key = keys.key_of(link, ctx.profile.key, ctx.base_url)
    digits = number.replace(",", "").strip()
    if key is None and digits.isdigit():
        key = keys.Key(digits, "number")
    if key is None:
        return None
    title, marked = _title(element, ctx.profile)
    url = keys.url_of(link, key, ctx.base_url, ctx.profile.link, ctx.scripts)
    when = _field(node, "date", ctx)
    row = Row(
        key=key.value,
        number=digits if digits.isdigit() else None,
        title=title,
        url=url or ctx.base_url,
        author=_author(node, ctx) or None,
        date=dates.resolve(when, ctx.now) if when else None,
        views=_int(_field(node, "views", ctx)),
        new_marker=marked or _new_marker(node, title_cell, element, ctx.profile),
        notice=_is_notice(node, number, ctx),
    )
    return _Parsed(row, key.kind, bool(when) and not _YEAR.search(when), url is not None)


def _checked(page: ListPage, parsed: list[_Parsed]) -> ListPage:
    """Refuse a page whose rows cannot all be told apart and followed."""
    kinds = {p.kind for p in parsed}
    if "number" in kinds and len(kinds) > 1:
        page.problem = "some rows' links carry no id; they cannot be told apart by a running number"
        return page
    if any(not p.url_known for p in parsed):
        page.problem = (
            "the posts' links are scripts whose address boardwatch cannot build "
            '(a [profiles.NAME] with `link = "view.do?id={key}"` can say it)'
        )
        return page
    seen: dict[str, _Parsed] = {}
    for p in parsed:
        first = seen.get(p.row["key"])
        if first is None:
            seen[p.row["key"]] = p
        elif first.row["title"] != p.row["title"]:
            page.problem = (
                f"two rows share the key {p.row['key']!r} under different titles "
                f"({first.row['title']!r}, {p.row['title']!r})"
            )
            return page
        else:  # a post pinned as a notice and listed again: one post
            first.row["notice"] = first.row["notice"] or p.row["notice"]
    page.rows = [p.row for p in seen.values()]
    page.vague_dates = {p.row["key"] for p in seen.values() if p.vague}
    return page


def _title_element(node: Element, cell: Element | None, profile: Profile) -> Element | None:
    """The post's link: the profile's title selector where it matches, else the best link of
    the title column (not a category, comment-count or author link)."""
    hinted = find(node, profile.title)
    if hinted and not profile.headers:
        return hinted[0]
    scope = cell if cell is not None else (node if not profile.headers else None)
    candidates = hinted or ([] if scope is None else _links(scope))
    usable = [c for c in candidates if _is_title_link(c)]
    return max(usable, key=lambda e: (_points_somewhere(e), len(visible([e]))), default=None)


def _links(scope: Element) -> list[Element]:
    found = list(scope.iter("a"))
    found += [i for i in scope.iter("input") if (i.get("type") or "").lower() == "submit"]
    return found


def _is_title_link(element: Element) -> bool:
    if not _NOT_TITLE_LINK.isdisjoint(classes(element)):
        return False
    href = (element.get("href") or "").lower()
    if any(part in href for part in ("#comment", "_comment", "cwin=")):
        return False
    if any(part in href for part in ("sca=", "category=")) and not keys.query_id(href):
        return False  # a category filter, not a post
    text = visible([element]) or element.get("value") or element.get("title") or ""
    return bool(text.strip()) and not _COUNT.match(text.strip())


def _points_somewhere(element: Element) -> bool:
    href = (element.get("href") or "").strip().lower()
    usable = bool(href) and not href.startswith(("#", "javascript:"))
    return usable or bool(element.get("onclick")) or element.tag == "input"


def _title(element: Element, profile: Profile) -> tuple[str, bool]:
    """The link's text without markers, counts and categories; True when a marker was in it."""
    if element.tag == "input":
        return clean_title(element.get("value") or "")
    link = copy.deepcopy(element)
    marked = False
    for inner in list(link.iter()):
        if inner is not link and _is_marker(inner):
            remove(inner)
            marked = True
    for inner in find(link, profile.drop):
        if inner is not link and inner.getparent() is not None:
            remove(inner)
    text = visible([link]) or element.get("title") or ""
    title, trailing = clean_title(text)
    return title, marked or trailing


def clean_title(text: str) -> tuple[str, bool]:
    """A title without trailing New / N / 새글 markers and comment counts (markers before a
    title are elements, taken out before); True when a marker word was taken off."""
    text = " ".join(text.split())
    cleaned = _TRAILING.sub("", text).strip()
    removed = text[len(cleaned) :].split()  # what went off the end
    return cleaned, any(word.casefold() in MARKER_WORDS for word in removed)


def _is_marker(element: Element) -> bool:
    """An element that says "New": an icon, a class that says so, or the word itself."""
    if not isinstance(element.tag, str):
        return False
    if element.tag == "img":
        words = f"{element.get('alt') or ''} {element.get('title') or ''}".casefold().split()
        src = (element.get("src") or "").rsplit("/", 1)[-1]
        return bool({"new", "새글", "n"} & set(words)) or bool(_NEW_SRC.search(src))
    if any(_NEW_CLASS.search(token) for token in classes(element)):
        return True
    own = visible([element]).casefold()
    return own in MARKER_WORDS and own != "hot" and len(element) <= 1


def _new_marker(node: Element, cell: Element | None, link: Element, profile: Profile) -> bool:
    if profile.new_marker and find(node, profile.new_marker):
        return True
    scope = cell if cell is not None else node
    for element in scope.iter():
        if element is not link and element not in link.iterdescendants() and _is_marker(element):
            return True
    return _bare_marker(scope, link)


def _bare_marker(scope: Element, link: Element) -> bool:
    """The word New / N / 새글 as plain text beside the link (`…</a> New</td>`)."""
    texts = [scope.text or "", link.tail or ""]
    texts += [child.tail or "" for child in scope if child is not link]
    return any(t.strip().casefold() in ("new", "n", "새글") for t in texts)


def _field(node: Element, name: str, ctx: _Context) -> str:
    """A cell's visible text: the profile's selector where it matches, else the header's column."""
    hinted = find(node, getattr(ctx.profile, name))
    if hinted:
        return visible(hinted)
    cell = ctx.layout.cell(node, name) if ctx.layout else None
    return visible([cell]) if cell is not None else ""


def _author(node: Element, ctx: _Context) -> str:
    text = _field(node, "author", ctx)
    return text.split("\n")[0].strip()


def _int(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def _is_notice(node: Element, number: str, ctx: _Context) -> bool:
    """공지 / Notice in the number cell, a notice icon there, or a row the board marks notice."""
    if number.strip().casefold() in NOTICE_WORDS:
        return True
    if ctx.profile.notice and find(node, ctx.profile.notice):
        return True
    if any("notice" in token for token in classes(node)):
        return True
    cell = ctx.layout.cell(node, "number") if ctx.layout else None
    first = cell if cell is not None else next(iter(node), None)
    return first is not None and _notice_mark(first)


def _notice_mark(cell: Element) -> bool:
    for element in cell.iter():
        if not isinstance(element.tag, str):
            continue
        alt = f"{element.get('alt') or ''} {element.get('title') or ''}".casefold()
        if "공지" in alt or "notice" in alt:
            return True
        if any("notice" in token for token in classes(element)):
            return True
        src = (element.get("src") or "").casefold()
        if element.tag == "img" and "notice" in src:
            return True
    return visible([cell]).casefold() in NOTICE_WORDS
