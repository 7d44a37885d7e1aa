"""Store scale: the cost of a quiet run with 1,000 and with 1,000,000 posts stored.

Method: one generated board, baselined; then the posts table is filled (directly, in one
transaction) up to the target size with posts the board no longer shows; then R quiet
`scrape once` runs are timed (fresh processes, median wall time). A design that does no work per
stored post costs the same at both sizes. Target: 1M ≤ 1.2 × 1k.

    python benchmarks/store_scale.py [--sizes 1000 1000000] [--rounds 5]
    python benchmarks/store_scale.py --smoke     # 1,000 vs 20,000, one round
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import BoardGenerator, Boards  # noqa: E402
from benchmarks.quiet_run import SCRAPE, timed  # noqa: E402

TARGET = 1.2


def fill(db: Path, size: int) -> None:
    with sqlite3.connect(db) as conn:
        board_id, have = conn.execute("SELECT board_id, count(*) FROM posts").fetchone()
        rows = (
            (board_id, f"old{i}", "지난 게시글", f"http://old/{i}", "2020-01-01 00:00:00")
            for i in range(size - have)
        )
        conn.executemany(
            "INSERT INTO posts (board_id, key, title, url, first_seen, settled, new_marker, notice)"
            " VALUES (?, ?, ?, ?, ?, 1, 0, 0)",
            rows,
        )


def quiet_cost(size: int, rounds: int) -> float:
    with BoardGenerator(Boards(1, posts=200)) as gen, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "scrape.toml").write_text(
            f'[[boards]]\nname = "b"\nurl = "{gen.url(0)}"\n', encoding="utf-8"
        )
        env = {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}
        cmd = [SCRAPE, "-q", "--config", str(work / "scrape.toml"), "once"]
        timed(cmd, work, env)
        fill(work / "bw.db", size)
        timed(cmd, work, env)  # warm the page cache at this size
        return statistics.median(timed(cmd, work, env)[0] for _ in range(rounds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.rounds = [1000, 20_000], 1
    small, large = (quiet_cost(size, args.rounds) for size in args.sizes)
    ratio = large / small
    print("store scale: median wall time of a quiet `scrape once` by posts stored")
    print(
        f"  {args.sizes[0]:,} posts: {small:.3f} s; {args.sizes[1]:,} posts: {large:.3f} s "
        f"→ ×{ratio:.2f} (target ≤ {TARGET})"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
