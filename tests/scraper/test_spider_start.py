"""A board whose list page cannot even be requested fails alone, named; the others start."""

from __future__ import annotations

import asyncio
import time
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


def test_a_board_not_yet_due_is_asked_for_no_sooner_than_its_moment() -> None:
    """The daemon claims boards falling due soon with those due now; each waits for its moment
    (`BoardTask.not_before`), the others go at once, in the order of their moments."""
    begun = time.monotonic()
    moments = {"late": begun + 0.4, "now": 0.0, "soon": begun + 0.2}
    tasks = [
        BoardTask(
            name=name,
            url=f"http://127.0.0.1:8/{name}",
            profile=BUILTIN["auto"],
            obey_robots=False,
            not_before=moment,
        )
        for name, moment in moments.items()
    ]
    spider = BoardSpider(tasks=tasks, lookup=NothingStored())

    async def collect() -> list[tuple[str, float]]:
        return [(r.cb_kwargs["board"], time.monotonic()) async for r in spider.start()]

    asked = asyncio.run(collect())
    assert [name for name, _ in asked] == ["now", "soon", "late"]
    assert all(at >= moments[name] for name, at in asked), (asked, moments)
