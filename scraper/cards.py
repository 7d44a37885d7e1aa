"""Reading a board laid out as a list rather than a table: gallery and webzine skins, card lists
(`<ul>`/`<li>`, `<div>` cards, `<dl>`, `<article>`) as public agencies publish their news.

The rows are repeated siblings each holding one post link of this board — a link that carries
an id, or a post-title path — beside a date (a post has one; a menu, a pager or a tag cloud does
not). A link to another board (a "latest posts" widget: `bo_table=notice` beside the gallery) is
no row of this one. A row's parts are found by what they say they are (a class that says date,
writer or views; text that reads as a date) since a card has no header to label them. What cannot
be told apart this way is left to the table reader, or refused: never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from scraper import keys
from scraper.profiles import pooled
from scraper.text import Element, classes, visible

ROW_TAGS = frozenset({"li", "div", "dl", "article", "tr"})
# What a part of a card says it is, by its class: words any site uses, then the families' own
# (`Profile.card_parts`, each a word found anywhere in a class).
GENERIC_PART_CLASSES = {
    "date": r"date|time|regdate|day|when",
    "author": r"writer|author|name|user|nick|dept",
    "views": r"view|hit|read|count",
    "number": r"^(?:num|no|number)$",
}


def _with_families(generic: dict[str, str]) -> dict[str, re.Pattern[str]]:
    family = pooled(lambda profile: profile.card_parts)
    return {
        name: re.compile(
            "|".join([words, *(re.escape(w) for part, w in family if part == name)]), re.IGNORECASE
        )
        for name, words in generic.items()
    }


PART_CLASSES = _with_families(GENERIC_PART_CLASSES)
_DATE_TEXT = re.compile(
    r"^\s*(?:\d{2,4}[-./]\s*\d{1,2}[-./]\s*\d{1,2}\.?|\d{1,2}[-./]\d{1,2}|\d{1,2}:\d{2}"
    r"|\d+\s*(?:초|분|시간|일|주)\s*전|방금(?: 전)?|어제|그제|\d+\s+\w+\s+ago)\s*$"
)
MIN_ROWS = 2
DATED = 0.6  # the share of a list's rows that must show a date
# Query parameters that name a board — the families' own (`Profile.board_params`), then any
# site's: a link whose value differs is another board's.
GENERIC_BOARD_PARAMS = ("board", "bbs", "code", "bid", "boardid", "board_id")
BOARD_PARAMS = (*pooled(lambda profile: profile.board_params), *GENERIC_BOARD_PARAMS)


@dataclass
class Cards:
    """A list of cards: its rows, and each row's parts by name (found once, on demand)."""

    rows: list[Element]
    hinted: bool = False
    _parts: dict[tuple[Element, str], Element | None] = field(default_factory=dict, repr=False)

    def cell(self, row: Element, name: str) -> Element | None:
        """The part of `row` that holds `name` (the row itself holds the title)."""
        if name == "title":
            return row
        if (row, name) not in self._parts:
            self._parts[(row, name)] = _part(row, name)
        return self._parts[(row, name)]


def find_cards(root: Element, base_url: str) -> Cards | None:
    """The page's list of posts laid out as cards, if it has one (the most rows wins)."""
    best: list[Element] = []
    for parent in root.iter("ul", "ol", "div", "section", "dl", "tbody"):
        rows = _post_rows(parent, base_url)
        if len(rows) > len(best):
            best = rows
    return Cards(best) if len(best) >= MIN_ROWS else None


def _post_rows(parent: Element, base_url: str) -> list[Element]:
    """The children of `parent` that repeat (one tag) and each hold one post link."""
    children = [c for c in parent if isinstance(c.tag, str) and c.tag in ROW_TAGS]
    if len(children) < MIN_ROWS:
        return []
    tag = max({c.tag for c in children}, key=lambda t: sum(c.tag == t for c in children))
    rows = [c for c in children if c.tag == tag and _one_post(c, base_url)]
    if len(rows) < max(MIN_ROWS, 0.6 * len(children)):
        return []
    dated = sum(1 for row in rows if _part(row, "date") is not None)
    return rows if dated >= DATED * len(rows) else []


def _one_post(row: Element, base_url: str) -> bool:
    """Does the row link to one post of this board (an id, or a path of its own)?"""
    found: set[str] = set()
    for link in row.iter("a"):
        parsed = keys.link_of(link, row, base_url)
        key = keys.key_of(parsed, None, base_url)
        if key is None:
            continue
        if parsed.href and not _this_board(parsed.href, base_url, key.kind == "path"):
            return False
        found.add(key.value)
    return len(found) == 1


def _this_board(url: str, base_url: str, pathed: bool) -> bool:
    """Is the link on the list's site and board — the board's query parameter the same, or
    (for a post-title path) under the list's folder or the board's name?"""
    link, base = urlsplit(url), urlsplit(base_url)
    if link.netloc != base.netloc:
        return False
    mine = {k.lower(): v for k, v in parse_qsl(base.query)}
    theirs = {k.lower(): v for k, v in parse_qsl(link.query)}
    if any(name in mine and name in theirs and mine[name] != theirs[name] for name in BOARD_PARAMS):
        return False
    if not pathed:
        return True
    first = link.path.strip("/").split("/", 1)[0]
    named = {mine[name] for name in BOARD_PARAMS if name in mine}
    return first in named or first == base.path.strip("/").split("/", 1)[0]


def _part(row: Element, name: str) -> Element | None:
    pattern = PART_CLASSES[name]
    for element in row.iter():
        if element is row or not isinstance(element.tag, str) or element.tag == "a":
            continue
        if any(pattern.search(token) for token in classes(element)) and visible([element]):
            return element
    if name == "date":  # no class says so: the text that reads as a date
        for element in row.iter():
            leaf = isinstance(element.tag, str) and element is not row and not len(element)
            if leaf and _DATE_TEXT.match(visible([element])):
                return element
    return None
