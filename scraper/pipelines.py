"""The store pipeline: a walk's posts are stored together when the spider closes.

Storing once per walk keeps one transaction per board run; the walk's outcome decides whether
its posts count as settled (see `storage.posts.ingest`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler

from storage import open_store, posts


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.url = settings["BOARDWATCH_DATABASE_URL"]
        self.backfill = settings.getint("BOARDWATCH_BACKFILL")
        self.dry_run = settings.getbool("BOARDWATCH_DRY_RUN")
        self.rows: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.rows.append(item)
        return item

    def close_spider(self) -> None:
        spider: Any = self.crawler.spider
        outcome = spider.outcome
        rows = sorted(self.rows, key=lambda row: row["seq"])
        store = open_store(self.url)
        with store.session(commit=not self.dry_run) as session:
            outcome.ingest = posts.ingest(
                session,
                spider.task.name,
                rows,
                complete=outcome.complete and outcome.error is None,
                backfill=self.backfill,
                now=datetime.now(UTC),
            )


class CollectPipeline:
    """For `scrape probe`: keep the rows on the spider's outcome; nothing is stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectPipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider: Any = self.crawler.spider
        spider.outcome.rows.append(item)
        return item
