"""The plain records that cross the store's boundary: posts in, posts and ledger entries out.

A crawl hands the store `PostData`; the store hands back `StoredPost` (what `scrape posts --json`
prints and digest templates receive) and ledger `Entry` records. Callers never see ORM objects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NotRequired, TypedDict


class Attachment(TypedDict):
    name: str
    url: str


class PostData(TypedDict):
    """One post as a walk read it: its list row, and its own page when that was fetched."""

    key: str
    number: str | None
    title: str
    url: str
    author: str | None
    date: date | None
    views: int | None
    new_marker: bool
    notice: bool
    summary: NotRequired[str | None]
    department: NotRequired[str | None]
    organisation: NotRequired[str | None]
    source_url: NotRequired[str | None]
    attachments: NotRequired[list[Attachment]]
    # the link the row was listed under when the key came from the post's own page (a title
    # slug): a row listed under it again is this post, whatever its key then
    alias: NotRequired[str | None]


class StoredPost(TypedDict):
    """A stored post as plain data."""

    id: int
    board: str
    board_title: str
    key: str
    number: str | None
    title: str
    url: str
    author: str | None
    date: date | None
    views: int | None
    new_marker: bool
    notice: bool
    first_seen: datetime
    summary: str | None
    department: str | None
    organisation: str | None
    source_url: str | None
    attachments: list[Attachment] | None


class Retitled(StoredPost):
    """A stored post whose title changed; `revision` identifies the change."""

    revision: int


class Entry(StoredPost):
    """One pending ledger entry: a post (or a title change) owed to one target."""

    entry_id: int
    attempts: int
    updated: bool
    old_title: NotRequired[str]


# What `scrape posts` shows of a post, in this order: the stored post without internal ids.
POST_FIELDS: tuple[str, ...] = tuple(
    name for name in StoredPost.__annotations__ if name not in ("id", "board_title")
)
# The columns a walk fills: everything of PostData but the key and the alias.
DATA_FIELDS: tuple[str, ...] = tuple(
    name for name in PostData.__annotations__ if name not in ("key", "alias")
)
