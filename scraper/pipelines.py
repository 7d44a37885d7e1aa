"""The store pipeline: each board's walk is stored in its own transaction as soon as the walk is
done, in a worker thread (never on the reactor's), and comes out as a `StoredWalk`.

The walk's end decides whether its posts count as settled (see `storage.posts.ingest`). One
board's failure to store is that board's error, never the others'.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Self

from scrapy.crawler import Crawler

from scraper.items import BoardWalk, RobotsRead, StoredWalk, WalkEnd
from storage import Store, StoreError, locks, open_store, posts, robots
from storage.db import describe

LOG = logging.getLogger(__name__)
STORE_URL = "BOARDWATCH_STORE_URL"  # the database to write to (the process's store for that URL)
OWNER = "BOARDWATCH_LEASE_OWNER"  # who holds the crawl's leases; None: a dry run, rolled back
LEASES = "BOARDWATCH_LEASES"  # board -> the lease its walk is stored under (its site's)
QUIET_ENDS = (WalkEnd.CAUGHT_UP, WalkEnd.END, WalkEnd.MAX_PAGES)


class LeaseLost(Exception):
    """Another run took the board over: this walk must not be stored."""


class StorePipeline:
    def __init__(self, store: Store, owner: str | None, leases: dict[str, str]) -> None:
        self.store, self.owner, self.leases = store, owner, leases

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get(STORE_URL)
        if not url:
            raise ValueError(f"the {STORE_URL} setting must name the database to store walks in")
        leases = dict(crawler.settings.getdict(LEASES))
        return cls(open_store(url), crawler.settings.get(OWNER), leases)

    async def process_item(self, item: object) -> object:
        if isinstance(item, RobotsRead):
            await asyncio.to_thread(self.keep_robots, item)
            return item
        if not isinstance(item, BoardWalk):
            return item
        if not item.rows and not item.baseline and item.end in QUIET_ENDS:
            return StoredWalk(item)  # quiet: stored, settled, unchanged — nothing to write
        return await asyncio.to_thread(self.store_walk, item)

    def keep_robots(self, read: RobotsRead) -> None:
        if self.owner is None:
            return  # a dry run keeps nothing
        try:
            with self.store.write() as session:
                robots.remember(session, {read.site: (read.body, read.ttl)}, locks.now(session))
        except Exception as exc:  # it is read again next time: no reason to fail a board
            LOG.warning("could not keep %s/robots.txt: %s", read.site, describe(exc))

    def store_walk(self, walk: BoardWalk) -> StoredWalk:
        sessions = self.store.dry_run if self.owner is None else self.store.write
        try:
            with sessions() as session:
                lease = self.leases.get(walk.board, f"board:{walk.board}")
                if self.owner and not locks.holds(session, lease, self.owner):
                    raise LeaseLost("another run took this board over; its walk was not stored")
                result = posts.ingest(
                    session,
                    walk.board,
                    walk.rows,
                    complete=walk.end.settles,
                    backfill=walk.backfill,
                    now=datetime.now(UTC),
                    listed=walk.listed,
                )
        except Exception as exc:  # that board's run fails; the others are stored
            LOG.debug("%s: could not store the walk", walk.board, exc_info=True)
            reason = exc if isinstance(exc, StoreError | LeaseLost) else describe(exc)
            return StoredWalk(walk, error=f"could not store the walk: {reason}")
        new = {post["key"] for post in result.new}
        rows = tuple(row for row in walk.rows if row["key"] in new)
        return StoredWalk(
            walk,
            rows,
            result.queued,
            result.baseline,
            result.had_posts,
            quiet=result.quiet,
            moved=result.moved,
            unsure=result.unsure,
        )
