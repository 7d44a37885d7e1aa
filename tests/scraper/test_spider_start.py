"""A board whose list page cannot even be requested fails alone, named; the others start."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from scrapy import Request

from scraper.items import BoardTask, BoardWalk, KnownPost, WalkEnd
from scraper.profiles import BUILTIN
from scraper.spiders.board import BoardSpider


class NothingStored:
    def known(
        self, board: str, keys: Sequence[str], aliases: Sequence[str]
    ) -> Mapping[str, KnownPost]:
        return {}

    def __call__(
        self, board: str, keys: Sequence[str], aliases: Sequence[str]
    ) -> Mapping[str, KnownPost]:
        return {}


def started(*urls: str) -> list[object]:
    tasks = [
        BoardTask(name=f"b{i}", url=url, profile=BUILTIN["auto"], obey_robots=False)
        for i, url in enumerate(urls)
    ]
    spider = BoardSpider(tasks=tasks, lookup=NothingStored())

    async def collect() -> list[object]:
        return [item async for item in spider.start()]

    return asyncio.run(collect())


def test_a_board_that_cannot_be_requested_fails_alone_and_the_others_start() -> None:
    out = started("http://127.0.0.1:99999/list", "http://[::1/x", "http://127.0.0.1:8/list")
    failed = [item for item in out if isinstance(item, BoardWalk)]
    assert [(w.board, w.end) for w in failed] == [("b0", WalkEnd.FAILED), ("b1", WalkEnd.FAILED)]
    assert all("cannot be requested" in str(w.error) for w in failed)
    assert [r.url for r in out if isinstance(r, Request)] == ["http://127.0.0.1:8/list"]
