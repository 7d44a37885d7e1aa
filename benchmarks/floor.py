"""The floor: the least a quiet run over N boards can cost in Python — no Scrapy, no framework.

Method: a bare script (asyncio streams, lxml, sqlite3) does, per board, one GET of its first list
page (HTTP/1.1 keep-alive; at most `concurrency` connections per site, 8 like boardwatch's
default, none across sites), one lxml parse of the page (each row's link and title), and one
indexed SELECT of the page's keys in its own SQLite table (primary key (board, key)); a settle
run stores the keys first, so a measured run finds nothing new. No robots.txt, no retries, no
redirects, no charset sniffing, no leases: the floor is what any tool doing this job pays. It
reads only what the benchmark server sends (Content-Length bodies), and says so if it gets
anything else. Every run is a fresh process, timed from start to exit, CPU and peak RSS from
`wait4`, like the tools it is shown next to.

    python benchmarks/floor.py --boards 1 100 300 [--sites 1]
    python benchmarks/floor.py --smoke
Other benchmarks: `floor_command(work, urls)` (a command to alternate with the tools') or
`measure_floor(urls)` (settle, then the median of `rounds` runs).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from benchmarks.harness import Measure

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 8  # per site, as boardwatch's default [crawl] concurrency
KEY = re.compile(r"[?&]no=(\d+)")


# ---- the child: one run of the floor, as light as it can be (stdlib + lxml only) ----


class Floor:
    def __init__(self, db: Path) -> None:
        from lxml import etree, html

        self.html = html
        self.rows = etree.XPath('//td[@class="td_subject"]/a')
        self.conn = sqlite3.connect(db)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS posts (board TEXT, key TEXT, title TEXT, "
            "PRIMARY KEY (board, key)) WITHOUT ROWID"
        )
        self.boards = self.new = 0

    def page(self, board: str, body: bytes) -> None:
        """One parse, one indexed SELECT; new keys are stored (only a settle run has any)."""
        rows = {}
        for a in self.rows(self.html.fromstring(body)):
            key = KEY.search(a.get("href", ""))
            if key:
                rows[key[1]] = a.text_content().strip()
        marks = ",".join("?" * len(rows))
        known = {
            key
            for (key,) in self.conn.execute(
                f"SELECT key FROM posts WHERE board = ? AND key IN ({marks})", (board, *rows)
            )
        }
        fresh = [(board, key, title) for key, title in rows.items() if key not in known]
        if fresh:
            self.conn.executemany("INSERT INTO posts VALUES (?, ?, ?)", fresh)
        self.boards += 1
        self.new += len(fresh)


async def _site(netloc: str, pages: deque[tuple[str, str]], floor: Floor, limit: int) -> None:
    host, port = netloc.rsplit(":", 1)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while pages:
                board, target = pages.popleft()
                writer.write(
                    f"GET {target} HTTP/1.1\r\nHost: {netloc}\r\nUser-Agent: floor\r\n"
                    "Accept-Encoding: identity\r\n\r\n".encode()
                )
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                length = re.search(r"\r\ncontent-length:\s*(\d+)", head)
                if not head.startswith("http/1.1 200") or not length:
                    raise SystemExit(f"floor: unexpected answer for {target}: {head[:200]!r}")
                floor.page(board, await reader.readexactly(int(length[1])))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(limit, len(pages)))))


async def _run(urls: Sequence[str], floor: Floor, limit: int) -> None:
    sites: dict[str, deque[tuple[str, str]]] = {}
    for i, url in enumerate(urls):
        parts = urlsplit(url)
        sites.setdefault(parts.netloc, deque()).append((f"b{i}", f"{parts.path}?{parts.query}"))
    await asyncio.gather(*(_site(netloc, q, floor, limit) for netloc, q in sites.items()))


def child(urls_file: str, db: str, limit: str) -> int:
    urls = Path(urls_file).read_text(encoding="utf-8").split()
    floor = Floor(Path(db))
    asyncio.run(_run(urls, floor, int(limit)))
    floor.conn.commit()
    print(f"floor: {floor.boards} boards read, {floor.new} new posts", file=sys.stderr)
    return 0 if floor.boards == len(urls) else 1


# ---- the parent: measuring the floor next to the tools ----


def floor_command(work: Path, urls: Sequence[str], concurrency: int = CONCURRENCY) -> list[str]:
    """The command of one floor run over `urls`; its store lives in `work`."""
    (work / "floor-urls.txt").write_text("\n".join(urls), encoding="utf-8")
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(work / "floor-urls.txt"),
        str(work / "floor.db"),
        str(concurrency),
    ]


def measure_floor(urls: Sequence[str], rounds: int = 3, concurrency: int = CONCURRENCY) -> Measure:
    """The floor for these boards: one settle run, then the median of `rounds` fresh runs."""
    import os
    import tempfile

    from benchmarks.harness import Measure, measure

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cmd = floor_command(work, urls, concurrency)
        measure(cmd, work, dict(os.environ))
        return Measure.median([measure(cmd, work, dict(os.environ)) for _ in range(rounds)])


def main() -> int:
    import argparse

    sys.path.insert(0, str(ROOT))
    from benchmarks.boardgen import Boards, Sites

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, nargs="+", default=[1, 100, 300, 1000])
    parser.add_argument("--sites", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1 and 10 boards, one round")
    args = parser.parse_args()
    if args.smoke:
        args.boards, args.rounds = [1, 10], 1
    print(
        f"floor: asyncio streams + lxml + sqlite3, one GET, one parse, one indexed SELECT per "
        f"board; ≤ {CONCURRENCY} connections per site; settle once, then median of "
        f"{args.rounds} fresh runs; CPU and peak RSS from wait4"
    )
    ok = True
    for n in args.boards:
        boards = Boards(n, posts=200)
        with Sites(boards, args.sites) as sites:
            before = boards.requests["list"]
            m = measure_floor(sites.urls(), args.rounds)
            pages = (boards.requests["list"] - before) / (n * (args.rounds + 1))
        found = m.err.strip().splitlines()[-1] if m.err.strip() else "?"
        print(
            f"  {n:>5} boards, {args.sites} site(s): {m.wall:.3f} s wall, {m.cpu:.3f} s CPU, "
            f"{m.rss:.0f} MiB; list pages per board per run: {pages:.2f}; last run: {found}"
        )
        ok = ok and pages == 1 and found.endswith(" 0 new posts")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(child(*sys.argv[2:5]))
    sys.exit(main())
