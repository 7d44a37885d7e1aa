"""Board profiles: where a board family keeps each cell, as data.

Selectors are CSS, or XPath when they start with `/` or `./`; cell selectors are relative to the
row. The built-ins and a user's `[profiles.NAME]` go through the same `Profile` record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    row: str
    title: str
    key: str  # regex over the title link's href and onclick; group 1 is the key
    number: str | None = None
    date: str | None = None
    author: str | None = None
    views: str | None = None
    new_marker: str | None = None
    notice: str | None = None  # present in the row = a pinned notice
    link: str | None = None  # e.g. "view.do?nttId={key}" when links are script-only
    page_param: str = "page"
    # detail page
    body: str | None = None
    department: str | None = None
    organisation: str | None = None
    attachments: str | None = None


BUILTIN: dict[str, Profile] = {
    "esg": Profile(
        name="esg",
        row="table.board_list > tbody > tr",
        title="td.td_subject a",
        key=r"[?&]no=(\d+)",
        number="td.td_num",
        date="td.td_date",
        author="td.td_name",
        views="td.td_hit",
        new_marker=".new_icon",
        notice=".notice_icon",
        body="div.view_content",
        department="p.view_dept",
        organisation="ul.view_info li.writer",
        attachments="div.view_file a",
    ),
}

FIELDS = frozenset(f.name for f in fields(Profile)) - {"name"}


def resolve(name: str, custom: Mapping[str, Mapping[str, Any]]) -> Profile:
    """The profile called `name`: a user's `[profiles.NAME]` first, then a built-in."""
    if name in custom:
        return Profile(name=name, **custom[name])
    return BUILTIN[name]


def known(custom: Mapping[str, Any]) -> list[str]:
    return sorted(set(BUILTIN) | set(custom))
