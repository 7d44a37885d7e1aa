"""Backfill: the first crawl of a 3,265-post board, walking every list page (list pages/s).

Method: one generated ESG-style board of 3,265 posts (164 list pages of 20); `scrape once` with
max_pages high enough to walk them all; the crawl's own duration comes from the store's runs
table (start to end of the walk), the command's wall time from outside. Twice: on loopback, and
with every answer taking 100 ms (a site far away), where fetching ahead while pages are all new is
what counts. Targets: ≥ 250 pages/s on loopback; at 100 ms ≥ 3× the 9 pages/s of a strictly serial
walk (27 pages/s).

    python benchmarks/backfill.py [--posts 3265]
    python benchmarks/backfill.py --smoke      # 400 posts (and 20 ms latency)
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import PER_PAGE, BoardGenerator, Boards  # noqa: E402
from benchmarks.quiet_run import SCRAPE, timed  # noqa: E402

TARGET, TARGET_FAR = 250.0, 27.0  # list pages/s: loopback; 100 ms away (3x the serial walk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=3265)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    posts = 400 if args.smoke else args.posts
    print("backfill: first crawl of one board, every list page walked")
    ok = walk(posts, 0.0, TARGET)
    ok &= walk(posts, 0.02 if args.smoke else 0.1, 0.0 if args.smoke else TARGET_FAR)
    return 0 if ok else 1


def walk(posts: int, delay: float, target: float) -> bool:
    boards = Boards(1, posts=posts)
    boards.delay = delay
    with BoardGenerator(boards) as gen, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pages = -(-posts // PER_PAGE)
        (work / "scrape.toml").write_text(
            f'[[boards]]\nname = "big"\nurl = "{gen.url(0)}"\nmax_pages = {pages + 5}\n',
            encoding="utf-8",
        )
        env = {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}
        wall, rss, _ = timed(
            [SCRAPE, "-q", "--config", str(work / "scrape.toml"), "once"], work, env
        )
        with sqlite3.connect(work / "bw.db") as db:
            walked, started, finished = db.execute(
                "SELECT pages, started_at, finished_at FROM runs"
            ).fetchone()
            stored = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    rate = walked / seconds
    where = f"{delay * 1000:.0f} ms away" if delay else "loopback"
    print(
        f"  {posts} posts, {where}: {walked} list pages, {stored} posts stored, "
        f"crawl {seconds:.2f} s → {rate:.0f} list pages/s (target ≥ {target:.0f}); "
        f"command {wall:.2f} s, {rss:.0f} MiB"
    )
    return rate >= target and walked == pages + 1 and stored == posts  # +1: the empty end


if __name__ == "__main__":
    sys.exit(main())
