"""Item pipelines: storing each board's walk when the crawl ends (or collecting rows for probe).

Storing once per walk keeps one transaction per board run; the walk's outcome decides whether
its posts count as settled (see `storage.posts.ingest`). One board's failure to store is that
board's error, never the others'.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Self

from scrapy.crawler import Crawler

from storage import open_store, posts

LOG = logging.getLogger(__name__)


class CollectPipeline:
    """Keeps each row on its walk's outcome; `scrape probe` uses it alone (nothing is stored)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider: Any = self.crawler.spider
        spider.walks[item["board"]].outcome.rows.append(item)
        return item


class StorePipeline(CollectPipeline):
    """Collects, then stores each board's walk in its own transaction when the crawl ends."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.url = crawler.settings["BOARDWATCH_DATABASE_URL"]
        self.dry_run = crawler.settings.getbool("BOARDWATCH_DRY_RUN")

    def close_spider(self) -> None:
        spider: Any = self.crawler.spider
        store = open_store(self.url)
        now = datetime.now(UTC)
        for name, walk in spider.walks.items():
            outcome = walk.outcome
            rows = sorted(outcome.rows, key=lambda row: row["seq"])
            if not rows and walk.task.detail_budget is None:  # quiet, baselined: nothing to write
                outcome.ingest = posts.IngestResult()
                continue
            try:
                with store.session(commit=not self.dry_run) as session:
                    outcome.ingest = posts.ingest(
                        session,
                        name,
                        rows,
                        complete=outcome.complete and outcome.error is None,
                        backfill=walk.task.backfill,
                        now=now,
                    )
            except Exception as exc:  # that board's run fails; the others are stored
                LOG.exception("%s: could not store the walk", name)
                outcome.error = f"could not store the walk: {type(exc).__name__}: {exc}"
