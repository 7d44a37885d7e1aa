"""Reading a board's list table by its header labels: which table is the list, which of its rows
are posts, and which column holds the number, title, author, date and views.

Class names vary from site to site; the header row says 번호 / 제목 / 글쓴이 / 날짜 / 조회 (or
No. / Title / Author / Date / Views on a site left in English) whatever the skin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scraper.text import Element, visible
from scraper.vocabulary import Vocabulary

_NOT_LABEL = re.compile(r"[\W_]+")
HEADER_ROWS = 3  # a header is among a table's first rows


@dataclass
class Layout:
    """A list table: its post rows and the column of each field (0-based, colspans counted)."""

    rows: list[Element]
    columns: dict[str, int]
    hinted: bool = False  # found through the profile's own row selector
    header: Element | None = field(default=None, repr=False)
    _spans: dict[Element, list[Element]] = field(default_factory=dict, repr=False)

    def cell(self, row: Element, name: str) -> Element | None:
        column = self.columns.get(name)
        if column is None:
            return None
        spans = self._spans.get(row)
        if spans is None:  # each row's cells by column, once
            spans = self._spans[row] = [c for c in cells(row) for _ in range(span(c))]
        return spans[column] if column < len(spans) else None


def label(text: str) -> str:
    return _NOT_LABEL.sub("", text.casefold())


def columns_of(header: Element, words: Vocabulary) -> dict[str, int]:
    """The fields a header row names, by column; needs a title column and one other."""
    labels: list[str] = []
    for cell in cells(header):
        labels += [label(visible([cell], words.hidden))] * span(cell)
    found: dict[str, int] = {}
    for name, said in words.labels.items():
        for word in said:  # the first label in the vocabulary's order wins
            if word in labels:
                found[name] = labels.index(word)
                break
    return found if "title" in found and len(found) >= 2 else {}


def cells(row: Element) -> list[Element]:
    return [child for child in row if child.tag in ("td", "th")]


def span(cell: Element) -> int:
    value = cell.get("colspan")
    if value is None:
        return 1
    try:
        return max(1, min(int(value), 20))
    except ValueError:
        return 1


def table_rows(table: Element) -> list[Element]:
    """A table's own rows (not those of tables nested in its cells)."""
    return [
        row
        for part in (table, *[c for c in table if c.tag in ("thead", "tbody", "tfoot")])
        for row in part
        if row.tag == "tr"
    ]


def find_layout(root: Element, hint_rows: list[Element], words: Vocabulary) -> Layout | None:
    """The list table: the one the profile's row selector points into when it has a header,
    else the table with a title column and the most rows that link somewhere."""
    hinted = _hinted_table(hint_rows)
    if hinted is not None:
        layout = layout_of(hinted, words)
        if layout is not None:
            layout.hinted = True
            return layout
    layouts = [layout for table in root.iter("table") if (layout := layout_of(table, words))]
    return max(layouts, key=_linked_rows, default=None)


def _hinted_table(rows: list[Element]) -> Element | None:
    for row in rows:
        if row.tag == "tr":
            for ancestor in row.iterancestors("table"):
                return ancestor
    return None


def layout_of(table: Element, words: Vocabulary) -> Layout | None:
    rows = table_rows(table)
    for index, row in enumerate(rows[:HEADER_ROWS]):
        columns = columns_of(row, words)
        if columns:
            body = [r for r in rows[index + 1 :] if r.find("td") is not None]
            if not _any_linked(Layout(body, columns)):
                body = _split_header_rows(table, words)
            return Layout(body, columns, header=row)
    return None


def _split_header_rows(table: Element, words: Vocabulary) -> list[Element]:
    """Old skins (gnuboard4) put the header in a table of its own and the rows in the next."""
    for nxt in table.xpath("following::table[position() <= 3]"):
        if not any(columns_of(r, words) for r in table_rows(nxt)[:HEADER_ROWS]):
            return [r for r in table_rows(nxt) if r.find("td") is not None]
    return []


def _any_linked(layout: Layout) -> bool:
    return any(_linked(layout, row) for row in layout.rows)


def _linked(layout: Layout, row: Element) -> bool:
    cell = layout.cell(row, "title")
    return (cell is not None and cell.find(".//a") is not None) or _has_button(cell)


def _linked_rows(layout: Layout) -> int:
    count = 0
    for row in layout.rows:
        cell = layout.cell(row, "title")
        if (cell is not None and cell.find(".//a") is not None) or _has_button(cell):
            count += 1
    return count


def _has_button(cell: Element | None) -> bool:
    return cell is not None and cell.find(".//input[@type='submit']") is not None
