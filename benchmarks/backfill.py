"""Backfill: the first crawl of a 3,265-post board, walking every list page (list pages/s).

Method: one generated ESG-style board of 3,265 posts (164 list pages of 20); `scrape once` with
max_pages high enough to walk them all; the crawl's own duration comes from the store's runs
table (start to end of the walk), the command's wall time from outside. Target: ≥ 100 pages/s.

    python benchmarks/backfill.py [--posts 3265]
    python benchmarks/backfill.py --smoke      # 400 posts
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

TARGET = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=3265)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    posts = 400 if args.smoke else args.posts
    boards = Boards(1, posts=posts)
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
    print("backfill: first crawl of one board, every list page walked")
    print(
        f"  {posts} posts: {walked} list pages, {stored} posts stored, crawl {seconds:.2f} s "
        f"→ {rate:.0f} list pages/s (target ≥ {TARGET:.0f}); command {wall:.2f} s, {rss:.0f} MiB"
    )
    return 0 if rate >= TARGET and walked == pages + 1 and stored == posts else 1  # +1: the end


if __name__ == "__main__":
    sys.exit(main())
