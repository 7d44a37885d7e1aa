"""A real store (SQLite in tmp_path) and a `Context` opened on it as the commands open one, with
posts published to its board through the real ingest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from records.post import ReadPost
from scheduler.config import (
    BoardConfig,
    Config,
    HttpConfig,
    NotifyConfig,
    Storage,
    SubscriberConfig,
)
from scheduler.context import Context, open_context, sync
from storage import posts

BOARD = BoardConfig(
    name="esg",
    title="ESG 정책뉴스",
    url="https://esg.example.kr/bbs/board.php?bo_table=esg_news",
)
T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)


class Desk:
    """One database: open a `Context` on it with a config, and publish posts to its board."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path / 'boardwatch.db'}"
        self.walks = 0
        self.keys = 0

    def context(
        self,
        subscribers: Sequence[SubscriberConfig],
        admin_urls: Sequence[str] = (),
        http: HttpConfig | None = None,
        **notify: Any,
    ) -> Context:
        """A context as `scrape` opens one for this config, its subscribers synced."""
        cfg = Config(
            storage=Storage(url=self.url),
            boards=[BOARD],
            subscribers=list(subscribers),
            notify=NotifyConfig(admin_urls=list(admin_urls), **notify),
            http=http or HttpConfig(),
        )
        ctx = open_context(cfg)
        sync(ctx)
        return ctx

    def publish(self, ctx: Context, *titles: str) -> None:
        """A walk of the board finding `titles` as new posts (the first walk is the baseline,
        which queues nothing: it is taken before any title is published)."""
        if self.walks == 0:
            self._walk(ctx, [self._row("baseline")])
        self._walk(ctx, [self._row(title) for title in reversed(titles)])

    def _walk(self, ctx: Context, rows: list[ReadPost]) -> None:
        self.walks += 1
        with ctx.store.write() as session:
            now = T0 + timedelta(minutes=self.walks)
            posts.ingest(session, "esg", rows, complete=True, backfill=0, now=now)

    def _row(self, title: str) -> ReadPost:
        self.keys += 1
        return ReadPost(
            key=str(self.keys),
            number=str(self.keys),
            title=title,
            url=f"https://esg.example.kr/bbs/board.php?bo_table=esg_news&wr_id={self.keys}",
            author="총괄관리자",
            date=date(2025, 7, 23),
            views=1,
            new_marker=True,
            notice=False,
        )


def subscriber(name: str, *urls: str, **keys: Any) -> SubscriberConfig:
    return SubscriberConfig(name=name, urls=list(urls), **keys)
