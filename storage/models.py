"""The tables: boards and their posts, crawl runs, subscribers and the delivery ledger.

Secrets never reach the database: a target is stored as a hash of its URL and a masked form;
the real URL stays in the configuration file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from records.post import POST_FIELDS, Attachment, StoredPost


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which drops zones) too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Board(Base):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    baselined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(String(10))
    last_error: Mapped[str | None] = mapped_column(Text)
    fail_streak: Mapped[int] = mapped_column(Integer, default=0)
    alerting: Mapped[bool] = mapped_column(Boolean, default=False)
    # what a run noticed without failing (links re-keyed, built links that lead nowhere)
    warning: Mapped[str | None] = mapped_column(Text)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when the last crawl of it began, by the database's clock, whoever crawled it: a board is
    # due again an interval later (see `storage.claims`)
    crawled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Post(Base):
    """One post of one board; `(board_id, key)` is its identity."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("board_id", "key", name="uq_posts_board_key"),
        Index("ix_posts_first_seen", "first_seen"),
        # a board's newest posts: the latest walk's first, in the board's order (stored in it)
        Index("ix_posts_board_newest", "board_id", text("first_seen DESC"), "id"),
        Index(
            "ix_posts_board_notices",
            "board_id",
            sqlite_where=text("notice"),
            postgresql_where=text("notice"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[date | None] = mapped_column(Date)
    views: Mapped[int | None] = mapped_column(Integer)
    new_marker: Mapped[bool] = mapped_column(Boolean, default=False)
    notice: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    # False while the post was only seen by a walk that did not finish: such posts do not
    # count as "already stored" when deciding where the next walk may stop.
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    source_url: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Attachment] | None] = mapped_column(JSON)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Alias(Base):
    """Another link a post was listed under (a title slug that an edit rebuilt, a path whose
    page carried no id): a row listed under it again is that post."""

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("board_id", "alias", name="uq_aliases_board_alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(1000))


class Revision(Base):
    """A change of a stored post's title (view counts are not changes)."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    old_title: Mapped[str] = mapped_column(Text)
    new_title: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new_posts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)


class Subscriber(Base):
    """A subscriber as last read from the configuration (routing data, no secrets)."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    boards: Mapped[list[str] | None] = mapped_column(JSON)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    include_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(100), default="immediate")
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("subscriber_id", "url_hash", name="uq_targets_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    url_hash: Mapped[str] = mapped_column(String(64))
    masked: Mapped[str] = mapped_column(Text)
    # a hash of what the URL names apart from its secrets (`notify.masking.identity`): an edited
    # target is matched to the one it replaces by it; None for targets stored before 0008
    identity: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # consecutive failed sends: they set the retry backoff and raise one alert past the threshold
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class OptOut(Base):
    """A subscriber's target that asked for no more digests (its digest's unsubscribe link): by
    the target's identity, so a target whose secret is edited stays out, another address does
    not; `scrape subscribers --resume` removes it."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("subscriber_id", "identity", name="uq_opt_outs_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(64))
    masked: Mapped[str] = mapped_column(Text)  # the target as it was when it left
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The ledger: one row per (target, post, revision); revision 0 is the post itself."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("target_id", "post_id", "revision", name="uq_deliveries_entry"),
        Index("ix_deliveries_pending", "target_id", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def post_dict(post: Post, board: Board) -> StoredPost:
    """A post as plain data, the shape `posts --json` and the digest templates use: every field
    `records.post` declares, read off its column of the same name."""
    fields = {name: getattr(post, name) for name in POST_FIELDS}
    extra = {"id": post.id, "board": board.name, "board_title": board.title}
    return cast(StoredPost, {**fields, **extra, "first_seen": post.first_seen})


class Lock(Base):
    """A lease on a shared resource (a board's crawl, delivery): held until `expires_at`.

    Holders renew it while they work; a killed holder's lease simply runs out.
    """

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Mirror(Base):
    """The configuration the store last mirrored (`storage.mirror`): a digest of the boards'
    titles and the subscribers' routing data, written by the sync that made the tables match it.
    One row; a migration that changes what a sync writes deletes it (the next start syncs)."""

    __tablename__ = "mirror"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KnownUrl(Base):
    """A target URL (by hash; the URL itself stays in the config) Apprise has read before."""

    __tablename__ = "known_urls"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Robots(Base):
    """A site's robots.txt as last read (None: everything allowed), until `expires_at`."""

    __tablename__ = "robots"

    site: Mapped[str] = mapped_column(String(300), primary_key=True)
    body: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
