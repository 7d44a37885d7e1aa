"""Atom feeds after each crawl (`[feeds] folder`): `boards/NAME.xml` with each board's latest
posts, `subscribers/NAME.xml` with what matched each subscriber's boards and keywords. A feed is
rewritten when its board found new posts in the crawl (or when it does not exist yet)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from notify import atom
from records.errors import BoardwatchError
from scheduler.config import Config
from scheduler.ops.logs import LOG
from scheduler.policy.verdict import CrawlReport
from storage import Store, ledger, posts


def write_feeds(
    config: Config, store: Store, crawls: Sequence[CrawlReport]
) -> list[BoardwatchError]:
    """Write the feeds the crawl changed; returns the errors (each logged, one line a feed)."""
    cfg = config.feeds
    if not cfg.folder:
        return []
    folder, now = Path(cfg.folder), datetime.now(UTC)
    changed = {crawl.board for crawl in crawls if crawl.new}
    boards = [
        b
        for b in config.boards
        if b.name in changed or not _path(folder, "boards", b.name).exists()
    ]
    subs = [
        s
        for s in config.subscribers
        if (changed and (s.boards is None or changed & set(s.boards)))
        or not _path(folder, "subscribers", s.name).exists()
    ]
    errors: list[BoardwatchError] = []
    with store.read() as session:
        wanted = [
            (
                "boards",
                b.name,
                b.display_title,
                b.url,
                posts.listing(session, b.name, cfg.entries),
            )
            for b in boards
        ] + [
            (
                "subscribers",
                s.name,
                f"boardwatch: {s.name}",
                None,
                ledger.queued_for(session, s.name, cfg.entries),
            )
            for s in subs
        ]
    for kind, name, title, link, latest in wanted:
        path = _path(folder, kind, name)
        feed = atom.Feed(
            id=f"{kind.rstrip('s')}/{quote(name, safe='')}",
            title=title,
            entries=latest,
            link=link,
            self_url=f"{cfg.base_url.rstrip('/')}/{kind}/{quote(name)}.xml"
            if cfg.base_url
            else None,
            zone=ZoneInfo(config.timezone),
        )
        try:
            atom.write(path, atom.atom(feed, now))
        except OSError as exc:
            errors.append(BoardwatchError(f"feed {path}: {exc.strerror or exc}"))
            LOG.error("feed %s could not be written: %s", path, exc.strerror or exc)
    return errors


def _path(folder: Path, kind: str, name: str) -> Path:
    return folder / kind / f"{name}.xml"
