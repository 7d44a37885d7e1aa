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
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from parsel import Selector
from parsel.csstranslator import css2xpath

from scraper import dates, keys
from scraper.cards import Cards, find_cards
from scraper.items import Row
from scraper.navigation import script_urls
from scraper.pager import Pager, read_pager
from scraper.profiles import Profile
from scraper.tables import Layout, find_layout
from scraper.text import Element, below, classes, is_element, remove, visible
from scraper.vocabulary import Vocabulary, vocabulary

MARKER_WORDS = frozenset({"new", "n", "새글", "hot"})  # as their own element, never in the text
# A comment count as an element of its own inside the title link (`<span>[3]</span>`): the
# board's count, not the title's text (which keeps its `[2026]` or `(3)`).
_COUNT_ELEMENT = re.compile(r"^[\[(]\s*\d+\s*[\])]$")
# A count a template writes after the title across a tab or a line break (eGov's list:
# `제목<TAB>[2]`): a gap no title typed into a form holds.
_TEMPLATE_COUNT = re.compile(r"[\t\r\n][ \t\r\n]*\[\d+\]\s*$")
_NEW_CLASS = re.compile(r"(?:^|[-_])new(?:$|[-_])")
_NEW_SRC = re.compile(r"(?:^|[/_\-.])new(?:[_\-.\d]|$)", re.IGNORECASE)
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


@dataclass
class _Reading:
    """One list page as it is being read: its address, the profile and its words, the layout
    found, the page's own scripts, and the cells already looked up."""

    base_url: str
    profile: Profile
    words: Vocabulary
    now: datetime
    layout: Layout | Cards | None
    scripts: dict[str, str]

    index: dict[str, dict[Element, list[Element]]] = field(default_factory=dict)

    def hinted(self, node: Element, name: str) -> list[Element]:
        """What the profile's selector for `name` matches in a row."""
        query = getattr(self.profile, name)
        if not query:
            return []
        by_row = self.index.get(name)
        return find(node, query) if by_row is None else by_row.get(node, [])

    def index_hints(self, rows: list[Element], names: tuple[str, ...]) -> None:
        """Match the CSS selectors among `names` once over the rows' table, not once a row
        (an XPath evaluation per row and selector was a third of reading a page)."""
        parent = rows[0].getparent() if rows else None
        if parent is None or any(row.getparent() is not parent for row in rows):
            return
        members = set(rows)
        for name in names:
            query = getattr(self.profile, name)
            if query and not query.startswith(("/", "./", "(")):
                self.index[name] = _by_row(find(parent, query), members, parent)


def _by_row(
    matches: list[Element], rows: set[Element], scope: Element
) -> dict[Element, list[Element]]:
    found: dict[Element, list[Element]] = {}
    for match in matches:
        row = match
        while row is not None and row is not scope and row not in rows:
            row = row.getparent()
        if row is not None and row in rows:
            found.setdefault(row, []).append(match)
    return found


@dataclass
class Skim:
    """A row read as far as a walk needs for every row: its key, title and notice mark (and the
    address it links to). The rest of the row is read only for the posts a walk emits."""

    node: Element
    title_cell: Element | None
    key: keys.Key
    title: str
    marked: bool  # a New marker was part of the title's text
    number: str
    notice: bool
    url: str | None
    built: str | None = None  # what the address was built from, when it is not the link's own


@dataclass
class ListPage:
    """One list page read with one profile: its posts, or why it must be refused."""

    skims: list[Skim] = field(default_factory=list)
    problem: str | None = None
    hinted: bool = False  # the profile's own selectors found the rows
    empty: bool = False  # the list is there, and says the board has no posts
    family: int = 0  # how much of the profile's engine the page shows (its `signature`, ≤ 10)
    context: _Reading | None = field(default=None, repr=False)
    vague_dates: set[str] = field(default_factory=set)  # keys whose list date had no year
    root: Element | None = field(default=None, repr=False)

    def pager(self, page: int) -> Pager | None:
        """The page's pager, read as showing page `page` (its rows' links are posts)."""
        if self.root is None or self.context is None:
            return None
        context, rows = self.context, [s.node for s in self.skims]
        return read_pager(self.root, context.base_url, page, rows, context.words)

    @property
    def keys(self) -> list[str]:
        return [skim.key.value for skim in self.skims]

    @property
    def paths(self) -> list[str]:
        """The keys that are links' paths (title slugs): they may be aliases of stored posts."""
        return [skim.key.value for skim in self.skims if skim.key.kind == "path"]

    @property
    def rows(self) -> list[Row]:
        """Every post of the page, read whole."""
        return self.complete(None)

    def complete(self, wanted: set[str] | None) -> list[Row]:
        """The posts whose keys are `wanted` (None: all), read whole, in the page's order."""
        if self.context is None:
            return []
        chosen = [s for s in self.skims if wanted is None or s.key.value in wanted]
        rows = [_complete(skim, self.context, self.vague_dates) for skim in chosen]
        return rows

    @property
    def score(self) -> tuple[int, int, int, int]:
        """How well the page was read: usable rows, rows with a date, the profile's engine,
        its own selectors."""
        if self.problem:
            return (0, 0, 0, 0)
        dated = sum(1 for row in self.rows if row["date"])
        return (len(self.skims), dated, self.family, int(self.hinted))


def read_list(root: Selector, base_url: str, profile: Profile, now: datetime) -> ListPage:
    """The posts of one list page in the page's order, or the reason it cannot be read right."""
    words = vocabulary(profile)
    hints = find(root.root, profile.row)
    layout: Layout | Cards | None = None
    if profile.headers:
        layout = find_layout(root.root, hints, words)
    if layout is None and profile.headers and not hints:  # not a table: a list of cards?
        layout = find_cards(root.root, base_url, words)
    nodes = layout.rows if layout is not None else hints
    context = _Reading(base_url, profile, words, now, layout, script_urls(root.root))
    context.index_hints(nodes, ("title", "number", "notice"))
    page = ListPage(
        hinted=bool(hints) and (layout is None or layout.hinted),
        family=min(len(find(root.root, profile.signature)), 10),
        context=context,
        root=root.root,
    )
    skims = [skim for node in nodes if (skim := _skim(node, context))]
    if not skims and isinstance(layout, Layout) and layout.header is not None:
        page.empty = _says_empty(layout.header, words)
    return _checked(page, skims)


_NO_POSTS = re.compile(
    r"(?:게시물|게시글|글|자료|등록된\s*\S+)[이가]?\s*없습니다|no (?:posts?|articles?|data)"
    r"|there (?:are|is) no",
    re.IGNORECASE,
)


def _says_empty(header: Element, words: Vocabulary) -> bool:
    """Does the list table whose header this is say it has no posts (`게시물이 없습니다`)?"""
    table = next(header.iterancestors("table"), None)
    return table is not None and bool(_NO_POSTS.search(visible([table], words.hidden)))


_TITLE_CLASS = re.compile(r"(?:board|bo|page|container|post)[-_]?(?:title|name|tit)|tit_board")
_SEPARATORS = re.compile(r"\s+(?:\||>|<|::|-|–|—|:)\s+")
_PAGE_NO = re.compile(r"\s*(?:\d*\s*페이지|목록|리스트|list)$", re.IGNORECASE)


def board_title(root: Element, words: Vocabulary) -> str:
    """The board's name as its page shows it: a heading that says it is the board's (or the
    page's) title, else the page's <title> up to the site's name (`웹진 1 페이지 | 그누보드5`)."""
    for element in root.iter("h1", "h2", "h3", "h4", "strong", "p", "div", "span"):
        tokens = [*classes(element), element.get("id") or ""]
        text = visible([element], words.hidden)
        if any(_TITLE_CLASS.search(t) for t in tokens) and 1 < len(text) <= 40:
            return _PAGE_NO.sub("", text).strip() or text
    head = root.find(".//title")
    text = " ".join((head.text or "").split()) if head is not None else ""
    return _PAGE_NO.sub("", _SEPARATORS.split(text)[0]).strip() if text else ""


def choose(
    root: Selector, base_url: str, profiles: Sequence[Profile], now: datetime
) -> tuple[Profile, ListPage] | None:
    """The profile that reads the page best (more posts, more dates, its own selectors)."""
    pages = [(p, read_list(root, base_url, p, now)) for p in profiles]
    best = max(pages, key=lambda pair: pair[1].score, default=None)
    return best if best is not None and best[1].score[0] else None


def _skim(node: Element, ctx: _Reading) -> Skim | None:
    title_cell = ctx.layout.cell(node, "title") if ctx.layout else None
    element = _title_element(node, title_cell, ctx)
    if element is None:
        return None
    number = _field(node, "number", ctx)
    link = keys.link_of(element, node, ctx.base_url)
    key = keys.key_of(link, ctx.profile.key, ctx.base_url, ctx.words)
    digits = number.replace(",", "").strip()
    if key is None and digits.isdigit():
        key = keys.Key(digits, "number")
    if key is None:
        return None
    title, marked = _title(element, ctx, card=isinstance(ctx.layout, Cards))
    address = keys.url_of(link, key, ctx.base_url, ctx.profile.link, ctx.scripts, ctx.words)
    notice = _is_notice(node, number, ctx)
    url, built = (address.url, address.built) if address else (None, None)
    return Skim(node, title_cell, key, title, marked, number, notice, url, built)


def _complete(skim: Skim, ctx: _Reading, vague_dates: set[str]) -> Row:
    node, digits = skim.node, skim.number.replace(",", "").strip()
    when = _field(node, "date", ctx)
    if when and not _YEAR.search(when):
        vague_dates.add(skim.key.value)
    return Row(
        key=skim.key.value,
        number=digits if digits.isdigit() else None,
        title=skim.title,
        url=skim.url or ctx.base_url,
        author=_author(node, ctx) or None,
        date=dates.resolve(when, ctx.now) if when else None,
        views=_int(_field(node, "views", ctx)),
        new_marker=skim.marked or _new_marker(node, skim.title_cell, ctx),
        notice=skim.notice,
        summary=None,  # the post's own page tells these, when it is read
        department=None,
        organisation=None,
        source_url=None,
        attachments=None,
        posted_at=None,
    )


def _checked(page: ListPage, skims: list[Skim]) -> ListPage:
    """Refuse a page whose rows cannot all be told apart and followed."""
    kinds = {s.key.kind for s in skims}
    if "number" in kinds and len(kinds) > 1:
        page.problem = "some rows' links carry no id; they cannot be told apart by a running number"
        return page
    if any(s.url is None for s in skims):
        page.problem = (
            "the posts' links are scripts whose address boardwatch cannot build "
            '(a [profiles.NAME] with `link = "view.do?id={key}"` can say it)'
        )
        return page
    seen: dict[str, Skim] = {}
    for s in skims:
        first = seen.get(s.key.value)
        if first is None:
            seen[s.key.value] = s
        elif first.title != s.title:
            page.problem = (
                f"two rows share the key {s.key.value!r} under different titles "
                f"({first.title!r}, {s.title!r})"
            )
            return page
        else:  # a post pinned as a notice and listed again: one post
            first.notice = first.notice or s.notice
    page.skims = list(seen.values())
    return page


def _title_element(node: Element, cell: Element | None, ctx: _Reading) -> Element | None:
    """The post's link: the profile's title selector where it matches, else the best link of
    the title column (not a category, comment-count or author link)."""
    profile, words = ctx.profile, ctx.words
    hinted = ctx.hinted(node, "title")
    if hinted and not profile.headers:
        return hinted[0]
    scope = cell if cell is not None else (node if not profile.headers else None)
    candidates = hinted or ([] if scope is None else _links(scope))
    if len(candidates) == 1:  # the usual row: one link
        text = _link_text(candidates[0], words)
        return candidates[0] if _is_title_link(candidates[0], text, words) else None
    usable = [(c, t) for c in candidates if _is_title_link(c, t := _link_text(c, words), words)]
    best = max(usable, key=lambda pair: _title_rank(pair[0], pair[1], node), default=None)
    return best[0] if best else None


_TITLED = re.compile(r"tit|subject|headline|title", re.IGNORECASE)
_PICTURE = re.compile(r"(?:^|[-_])(?:img|image|thumb|thumbnail|photo|pic|picture)(?:$|[-_])")


def _title_rank(link: Element, text: str, row: Element) -> tuple[bool, bool, bool, int]:
    """Which of a row's post links is its title, by structure: one that goes somewhere, that is
    not a thumbnail's (a picture's box around it), that is or sits in an element whose class says
    title; then the longest text."""
    boxes = [link, *below(link, row)]
    pictured = any(_PICTURE.search(token) for box in boxes for token in classes(box))
    titled = any(_TITLED.search(token) for box in boxes for token in classes(box))
    return (_points_somewhere(link), not pictured, titled, len(text))


def _link_text(element: Element, words: Vocabulary) -> str:
    text = visible([element], words.hidden) if len(element) else (element.text or "").strip()
    return text or element.get("value") or element.get("title") or ""


def _links(scope: Element) -> list[Element]:
    found = list(scope.iter("a"))
    found += [i for i in scope.iter("input") if (i.get("type") or "").lower() == "submit"]
    return found


_PLACEHOLDER = re.compile(r"no[-_]?im(?:a)?ge?|no[-_]?img|no[-_]?thumb|no[-_]?photo")


def _is_title_link(element: Element, text: str, words: Vocabulary) -> bool:
    """Is the link a post's title — not a category, a comment count or a writer's menu (by its
    class), a link to comments, a category filter, a thumbnail's placeholder, a bare count?"""
    if not words.not_title.isdisjoint(classes(element)):
        return False
    if any(_PLACEHOLDER.search(token) for e in element.iter() for token in classes(e)):
        return False  # a thumbnail's "no image" placeholder: never a title
    href = (element.get("href") or "").lower()
    if any(part in href for part in words.comment_links):
        return False
    if any(part in href for part in words.category_links) and not keys.query_id(href, words):
        return False  # a category filter, not a post
    text = text.strip()
    return bool(text) and not _COUNT.match(text)


def _points_somewhere(element: Element) -> bool:
    href = (element.get("href") or "").strip().lower()
    usable = bool(href) and not href.startswith(("#", "javascript:"))
    return usable or bool(element.get("onclick")) or element.tag == "input"


def _title(element: Element, ctx: _Reading, *, card: bool = False) -> tuple[str, bool]:
    """The link's text without markers, counts and categories; True when a marker was in it.
    A card's link may hold more than its title (a lead text, a date): its heading is the title."""
    if element.tag == "input":
        return clean_title(element.get("value") or ""), False
    if not len(element):  # text only: nothing inside to take out, every word is the title's
        return clean_title(element.text or element.get("title") or ""), False
    link, unseen = copy.deepcopy(element), ctx.words.hidden
    marked = False
    for inner in list(link.iter()):
        if inner is not link and (
            _is_marker(inner, unseen) or _is_badge(inner, unseen) or _is_count(inner, unseen)
        ):
            marked = marked or _is_marker(inner, unseen)
            remove(inner)
    for inner in find(link, ctx.words.drop if ctx.profile.drop is None else ctx.profile.drop):
        if inner is not link and inner.getparent() is not None:
            remove(inner)
    heading = _heading(link, unseen) if card else None
    if card and heading is None:  # the link's text, without its date badge or [category]
        for inner in list(link.iter()):
            if inner is not link and _NOT_A_HEADING.match(visible([inner], unseen)):
                remove(inner)
    text = visible([heading if heading is not None else link], unseen) or element.get("title") or ""
    return clean_title(text), marked


_HEADING_CLASS = re.compile(r"tit|subject|title|headline", re.IGNORECASE)


_NOT_A_HEADING = re.compile(r"^(?:[\d\s.:/-]+|\[[^\]]*\]|\([^)]*\))$")  # a day, a [category]


def _heading(link: Element, unseen: Set[str]) -> Element | None:
    """The title element inside a card's link that holds more than its title (a lead text, a
    date): a heading or an element whose class says title, else a `strong`/`b` that is a block
    of its own (not a word emphasised in a sentence); never a date badge or a [category]; the
    longest such. None: the link's text is the title."""
    headings, bold = [], []
    for element in link.iter():
        if element is link or not isinstance(element.tag, str):
            continue
        text = visible([element], unseen)
        if not text or _NOT_A_HEADING.match(text):
            continue
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6") or any(
            _HEADING_CLASS.search(token) for token in classes(element)
        ):
            headings.append((len(text), element))
        elif element.tag in ("strong", "b") and _on_its_own(element, text):
            bold.append((len(text), element))
    found = headings or bold
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _on_its_own(element: Element, text: str) -> bool:
    """Is a bold element a block of its own, not a word inside a sentence around it?"""
    around = (element.getparent().text or "") + (element.tail or "")
    return len(" ".join(around.split())) < len(text)


def clean_title(text: str) -> str:
    """A title's own text, whitespace folded. Every word of it is the title's, even "New", "N",
    "Hot" or a bracketed number: markers and counts are elements, taken out before — but for a
    count a template writes across a tab or a line break (`제목<TAB>[2]`)."""
    return " ".join(_TEMPLATE_COUNT.sub("", text.rstrip()).split())


def _is_marker(element: Element, unseen: Set[str]) -> bool:
    """An element that says "New": an icon, a class that says so, or the word itself."""
    if not isinstance(element.tag, str):
        return False
    if element.tag == "img":  # an icon whose words are a marker's (a thumbnail's are a title)
        said = {" ".join((element.get(a) or "").casefold().split()) for a in ("alt", "title")}
        src = (element.get("src") or "").rsplit("/", 1)[-1]
        return any(_ICON_WORDS.match(text) for text in said) or bool(_NEW_SRC.search(src))
    if any(_NEW_CLASS.search(token) for token in classes(element)):
        return True
    if len(element) > 1 or len(element.text or "") > 8:
        return False
    own = visible([element], unseen).casefold()
    return own in MARKER_WORDS and own != "hot"


# An icon's words that say New: "new", "N", "새글", "new icon", "새글 아이콘", "새 게시물" …
_ICON_WORDS = re.compile(
    r"^(?:new|n|새\s?글|새\s?게시물|새로운\s?글)(?:\s?(?:icon|아이콘|이미지|image|img|표시))?$"
)


def _is_count(element: Element, unseen: Set[str]) -> bool:
    """An element of its own inside the title link that shows a count: `<span>[3]</span>`."""
    if not isinstance(element.tag, str) or len(element) or element.getparent() is None:
        return False
    return bool(_COUNT_ELEMENT.match(visible([element], unseen)))


def _is_badge(element: Element, unseen: Set[str]) -> bool:
    """An element that says "Hot": a badge beside the title, not part of it (nor a New mark)."""
    if not isinstance(element.tag, str) or len(element) > 1:
        return False
    if element.tag == "img":
        return "hot" in f"{element.get('alt') or ''} {element.get('title') or ''}".casefold()
    return visible([element], unseen).casefold() == "hot" or "hot" in classes(element)


def _new_marker(node: Element, cell: Element | None, ctx: _Reading) -> bool:
    """A New marker beside the title: the profile's, an icon, a class, or the word itself."""
    if ctx.hinted(node, "new_marker"):
        return True
    scope, unseen = (cell if cell is not None else node), ctx.words.hidden
    inside_links = {e for a in scope.iter("a") for e in a.iter() if a is not scope}
    for element in scope.iter():
        if element is not scope and element not in inside_links and _is_marker(element, unseen):
            return True
    return _bare_marker(scope)


def _bare_marker(scope: Element) -> bool:
    """The word New / N / 새글 as plain text beside the link (`…</a> New</td>`)."""
    texts = [scope.text or ""] + [child.tail or "" for child in scope]
    return any(t.strip().casefold() in ("new", "n", "새글") for t in texts)


def _field(node: Element, name: str, ctx: _Reading) -> str:
    """A cell's visible text: the profile's selector where it matches, else the header's column."""
    hinted = ctx.hinted(node, name)
    if hinted:
        return visible(hinted, ctx.words.hidden)
    cell = ctx.layout.cell(node, name) if ctx.layout else None
    return visible([cell], ctx.words.hidden) if cell is not None else ""


def _author(node: Element, ctx: _Reading) -> str:
    text = _field(node, "author", ctx)
    return text.split("\n")[0].strip()


_NUMBER_AT_END = re.compile(r"(?:^|\s)(\d[\d,]*)$")


def _int(text: str) -> int | None:
    """A count as a cell shows it: `1,234`, or after its label (`조회 12`, a card's)."""
    match = _NUMBER_AT_END.search(text.strip())
    return int(match[1].replace(",", "")) if match else None


def _is_notice(node: Element, number: str, ctx: _Reading) -> bool:
    """공지 / Notice in the number cell, a notice icon there, or a row the board marks notice."""
    notice_words = ctx.profile.notice_words
    if number.strip().casefold() in notice_words:
        return True
    if ctx.hinted(node, "notice"):
        return True
    if any("notice" in token for token in classes(node)):
        return True
    if isinstance(ctx.layout, Cards) and any(
        "notice" in token for e in node.iter() for token in classes(e)
    ):
        return True  # a card's notice badge (gnuboard's gallery: `is_notice` on the picture)
    cell = ctx.layout.cell(node, "number") if ctx.layout else None
    first = cell if cell is not None else next(iter(node), None)
    return first is not None and _notice_mark(first, notice_words, ctx.words.hidden)


def _notice_mark(cell: Element, notice_words: tuple[str, ...], unseen: Set[str]) -> bool:
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
    return visible([cell], unseen).casefold() in notice_words
