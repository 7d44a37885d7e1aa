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
from scraper.text import Element, classes, visible
from scraper.vocabulary import Vocabulary

ROW_TAGS = frozenset({"li", "div", "dl", "article", "tr"})
_DATE_TEXT = re.compile(
    r"^\s*(?:\d{2,4}[-./]\s*\d{1,2}[-./]\s*\d{1,2}\.?|\d{1,2}[-./]\d{1,2}|\d{1,2}:\d{2}"
    r"|\d+\s*(?:초|분|시간|일|주)\s*전|방금(?: 전)?|어제|그제|\d+\s+\w+\s+ago)\s*$"
)
MIN_ROWS = 2
DATED = 0.6  # the share of a list's rows that must show a date


@dataclass
class Cards:
    """A list of cards: its rows, and each row's parts by name (found once, on demand)."""

    rows: list[Element]
    words: Vocabulary  # what its parts' classes say (`Vocabulary.part_classes`)
    hinted: bool = False
    _parts: dict[tuple[Element, str], Element | None] = field(default_factory=dict, repr=False)

    def cell(self, row: Element, name: str) -> Element | None:
        """The part of `row` that holds `name` (the row itself holds the title)."""
        if name == "title":
            return row
        if (row, name) not in self._parts:
            self._parts[(row, name)] = _part(row, name, self.words)
        return self._parts[(row, name)]


def find_cards(root: Element, base_url: str, words: Vocabulary) -> Cards | None:
    """The page's list of posts laid out as cards, if it has one (the most rows wins)."""
    best: list[Element] = []
    for parent in root.iter("ul", "ol", "div", "section", "dl", "tbody"):
        rows = _post_rows(parent, base_url, words)
        if len(rows) > len(best):
            best = rows
    return Cards(best, words) if len(best) >= MIN_ROWS else None


def _post_rows(parent: Element, base_url: str, words: Vocabulary) -> list[Element]:
    """The children of `parent` that repeat (one tag) and each hold one post link."""
    children = [c for c in parent if isinstance(c.tag, str) and c.tag in ROW_TAGS]
    if len(children) < MIN_ROWS:
        return []
    tag = max({c.tag for c in children}, key=lambda t: sum(c.tag == t for c in children))
    rows = [c for c in children if c.tag == tag and _one_post(c, base_url, words)]
    if len(rows) < max(MIN_ROWS, 0.6 * len(children)):
        return []
    dated = sum(1 for row in rows if _part(row, "date", words) is not None)
    return rows if dated >= DATED * len(rows) else []


def _one_post(row: Element, base_url: str, words: Vocabulary) -> bool:
    """Does the row link to one post of this board (an id, or a path of its own)?"""
    found: set[str] = set()
    for link in row.iter("a"):
        parsed = keys.link_of(link, row, base_url)
        key = keys.key_of(parsed, None, base_url, words)
        if key is None:
            continue
        pathed = key.kind == "path"
        if parsed.href and not _this_board(parsed.href, base_url, pathed, words.board_params):
            return False
        found.add(key.value)
    return len(found) == 1


def _this_board(url: str, base_url: str, pathed: bool, params: tuple[str, ...]) -> bool:
    """Is the link on the list's site and board — the board's query parameter the same, or
    (for a post-title path) under the list's folder or the board's name?"""
    link, base = urlsplit(url), urlsplit(base_url)
    if link.netloc != base.netloc:
        return False
    mine = {k.lower(): v for k, v in parse_qsl(base.query)}
    theirs = {k.lower(): v for k, v in parse_qsl(link.query)}
    if any(name in mine and name in theirs and mine[name] != theirs[name] for name in params):
        return False
    if not pathed:
        return True
    first = link.path.strip("/").split("/", 1)[0]
    named = {mine[name] for name in params if name in mine}
    return first in named or first == base.path.strip("/").split("/", 1)[0]


def _part(row: Element, name: str, words: Vocabulary) -> Element | None:
    """The part of a card its class names `name` (a date: else the text that reads as one)."""
    pattern, unseen = words.part_classes[name], words.hidden
    for element in row.iter():
        if element is row or not isinstance(element.tag, str) or element.tag == "a":
            continue
        if any(pattern.search(token) for token in classes(element)) and visible([element], unseen):
            return element
    if name == "date":  # no class says so: the text that reads as a date
        for element in row.iter():
            leaf = isinstance(element.tag, str) and element is not row and not len(element)
            if leaf and _DATE_TEXT.match(visible([element], unseen)):
                return element
    return None
