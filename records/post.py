"""A post, defined once: what a board shows of it, as a walk reads it, as the store keeps it, as
a ledger owes it to a target. The crawl, the store, the digest, the feeds and `scrape posts --json`
all read these records; nothing else declares a post's fields.

Adding a field: add it here (to `Listed` if the list row shows it, `Details` if the post's own page
does), add the column to `storage.models.Post` and a migration; the store keeps it and every
digest template and `posts --json` receives it (`tests/storage/test_records.py` checks the
column is there).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NotRequired, TypedDict


class Attachment(TypedDict):
    name: str
    url: str


class Listed(TypedDict):
    """What a board's list row shows of a post."""

    key: str  # the post's identity on its board (its id, or its link when it has none)
    number: str | None
    title: str
    url: str
    author: str | None
    date: date | None
    views: int | None
    new_marker: bool
    notice: bool


class Details(TypedDict):
    """What the post's own page adds (None, until its page is read)."""

    summary: str | None
    department: str | None
    organisation: str | None
    source_url: str | None
    attachments: list[Attachment] | None
    posted_at: datetime | None  # when it was written, to the minute, where its page says so


class Post(Listed, Details):
    """A post as its board shows it."""


class ReadPost(Post):
    """A post as a walk hands it to the store."""

    # the link the row was listed under when the key came from the post's own page (a title
    # slug): a row listed under it again is this post, whatever its key then
    alias: NotRequired[str | None]


class StoredPost(Post):
    """A stored post: what `scrape posts --json` prints and digest templates receive."""

    id: int
    board: str
    board_title: str
    first_seen: datetime  # when boardwatch found it


class Retitled(StoredPost):
    """A stored post whose title changed; `revision` identifies the change."""

    revision: int


class Entry(StoredPost):
    """A post (or a title change) a ledger owes one target, and a digest carries."""

    entry_id: int
    attempts: int
    updated: bool
    old_title: str | None  # a title change's title before (None: a new post)


POST_FIELDS: tuple[str, ...] = tuple(Post.__annotations__)
DETAIL_FIELDS: tuple[str, ...] = tuple(Details.__annotations__)
