"""What templates receive: a digest's boards and posts (built from `records.post.Entry`), and what
an admin alert says. Cheap to import (no Jinja2, no Apprise)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypedDict

from records.post import Entry


class PostView(Entry):
    """A post as templates see it: its entry with titles capped and every link made safe (an
    unsafe one is "": see `notify.digest`), `when` (its date, with the time where its page
    showed one, in the digest's zone) and `pill` (show its New mark: the board marks it New and
    that tells the reader something here)."""

    when: str
    pill: bool


class BoardView(TypedDict):
    name: str
    title: str
    url: str | None  # the board's list page (its heading links there)
    posts: list[PostView]
    updated: list[PostView]
    mixed: bool  # its new posts mix ones the board marks New and ones it does not


class DigestContext(TypedDict):
    subscriber: str
    boards: list[BoardView]
    boards_label: str  # "ESG 정책뉴스", "A, B" or "ESG 정책뉴스 외 9곳"
    count: int
    new_count: int
    updated_count: int
    generated_at: datetime
    unsubscribe: str | None  # where this target's reader leaves (an email's 구독 해지 link)
    leave_hint: str | None  # the operator's "how to leave" line, for media without a link


class BoardAlert(TypedDict):
    """A board started failing, or recovered, or its links changed (see `alert.txt.j2`)."""

    kind: Literal["failing", "recovered", "moved"]
    board: str
    title: str
    error: str | None
    streak: int


class DeliveryAlert(TypedDict):
    """A delivery target started refusing digests, or accepts them again, or its reader left
    through a digest's unsubscribe link."""

    kind: Literal["delivery_failing", "delivery_recovered", "unsubscribed"]
    subscriber: str
    target: str  # masked
    error: str | None
    streak: int
