"""The store pipeline: each board's walk is stored in its own transaction as soon as the walk is
done, in a worker thread (never on the reactor's), and comes out as a `StoredWalk`; a robots.txt
read now (`scraper.robots`) is kept for the runs that follow.

The pipeline takes its store in `open_spider`, from a setting (the database's URL: its schema is
the caller's to have brought up to date, as every command does).

The walk's end decides whether its posts count as settled (see `storage.posts.ingest`). One
board's failure to store is that board's error, never the others'.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from scraper.detail import is_alert_page, shows
from scraper.encoding import decode
from scraper.items import BoardWalk, StoredWalk, WalkEnd
from scraper.keys import page_id
from scraper.middlewares import ORIGINS
from scraper.robots import robots_read
from scraper.text import tree
from scraper.vocabulary import any_board
from storage import Store, StoreError, locks, open_store, posts, robots
from storage.db import describe

LOG = logging.getLogger(__name__)
STORE_URL = "BOARDWATCH_STORE_URL"  # the database to write to (the process's store for that URL)
OWNER = "BOARDWATCH_LEASE_OWNER"  # who holds the crawl's leases; None: a dry run, rolled back
LEASES = "BOARDWATCH_LEASES"  # board -> the lease its walk is stored under (its site's)
QUIET_ENDS = (WalkEnd.CAUGHT_UP, WalkEnd.END, WalkEnd.MAX_PAGES)


class LeaseLost(StoreError):
    """Another run took the board over: this walk must not be stored."""


class StorePipeline:
    store: Store

    def __init__(
        self,
        url: str,
        owner: str | None,
        leases: dict[str, str],
        crawler: Crawler | None = None,
    ) -> None:
        self.url, self.owner, self.leases = url, owner, leases
        self.crawler = crawler  # asks old links whether they still answer (as media pipelines do)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get(STORE_URL)
        if not url:
            raise ValueError(f"the {STORE_URL} setting must name the database to store walks in")
        leases = dict(crawler.settings.getdict(LEASES))
        pipeline = cls(url, crawler.settings.get(OWNER), leases, crawler)
        crawler.signals.connect(pipeline.robots_read, signal=robots_read)
        return pipeline

    def open_spider(self) -> None:
        """The process's store for the URL (`storage.open_store`): the one the command that
        crawls holds, so this process's SQLite writers — walks stored, leases renewed, digests
        marked — take turns in one queue rather than in SQLite's busy handler."""
        self.store = open_store(self.url)

    def close_spider(self) -> None:
        """Nothing to close: the store outlives the crawl (the command closes it as it ends)."""

    async def process_item(self, item: object) -> object:
        if not isinstance(item, BoardWalk):
            return item
        if not item.rows and not item.baseline and item.end in QUIET_ENDS:
            return StoredWalk(walk=item)  # quiet: stored, settled, unchanged — nothing to write
        gone = await self.old_links_gone(item)
        return await asyncio.to_thread(self.store_walk, item, gone)

    async def old_links_gone(self, walk: BoardWalk) -> bool:
        """Would the walk be taken for a board whose links changed? Only once the old links are
        shown gone: each asked (two at most) no longer answers with its post. A new post that
        repeats a stored post's title and date, while that post still answers, is news."""
        if walk.baseline or not walk.rows or self.crawler is None:
            return False
        try:
            sample = await asyncio.to_thread(self.moved_sample, walk)
        except Exception as exc:  # the walk is stored as it is: its rows are news
            LOG.debug("%s: could not compare with stored posts: %s", walk.board, describe(exc))
            return False
        for old in sample:
            if not await self.gone(walk, old):
                return False
        return bool(sample)

    def moved_sample(self, walk: BoardWalk) -> list[posts.OldLink]:
        with self.store.read() as session:
            return posts.moved_sample(session, walk.board, walk.rows, walk.listed)

    async def gone(self, walk: BoardWalk, old: posts.OldLink) -> bool:
        """Does the stored post's old address no longer answer with it? Gone: 4xx, a "no such
        post" page, another post's page, or a redirect (to its new link); not gone: its page,
        at its address. An answer that cannot be had proves nothing."""
        assert self.crawler is not None and self.crawler.engine is not None
        request = Request(old.url, meta={ORIGINS: walk.origins}, dont_filter=True)
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest:
            return True  # it leads off the site now: not that post's address any more
        except Exception:
            return False
        if response.status >= 500:
            return False
        if response.status >= 400 or response.url != request.url:
            return True
        try:
            root = tree(decode(response).text)
        except Exception:
            return False
        words = any_board()  # the walk's profile is not known here: read as `auto` reads any page
        there = not is_alert_page(root, words) and shows(root, old.title, words)
        return not (there and page_id(root.root, response.url, words) in (None, old.key))

    async def robots_read(self, site: str, body: str | None, ttl: float) -> None:
        if self.owner is not None:  # a dry run keeps nothing
            await asyncio.to_thread(self.keep_robots, site, body, ttl)

    def keep_robots(self, site: str, body: str | None, ttl: float) -> None:
        try:
            with self.store.write() as session:
                robots.remember(session, {site: (body, ttl)}, locks.now(session))
        except Exception as exc:  # it is read again next time: no reason to fail a board
            LOG.warning("could not keep %s/robots.txt: %s", site, describe(exc))

    def store_walk(self, walk: BoardWalk, links_gone: bool = False) -> StoredWalk:
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
                    links_gone=links_gone,
                )
        except Exception as exc:  # that board's run fails; the others are stored
            LOG.debug("%s: could not store the walk", walk.board, exc_info=True)
            hint = exc.hint if isinstance(exc, StoreError) else ""
            said = exc if isinstance(exc, StoreError) else describe(exc)
            return StoredWalk(
                walk=walk, error=StoreError(f"could not store the walk: {said}", hint)
            )
        new = set(result.new)
        rows = tuple(row for row in walk.rows if row["key"] in new)
        return StoredWalk(walk=walk, result=result, new=rows)
