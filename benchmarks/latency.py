"""Latency: quiet runs over 300 boards whose server answers in 100 ± 50 ms, each tool as shipped.

Method: 300 generated ESG-style boards; every answer waits a uniform random 50–150 ms first (a
site far away). The boards are spread over S sites — S loopback addresses (127.0.0.2, …), one
server each — for S = 30 (10 boards a site) and S = 1 (all on one site). Each tool runs with its
defaults: boardwatch with no [crawl] table (8 requests in flight per site, no delay), urlwatch
with its default config (10 jobs at once) and the title-only filter of `quiet_run.py`; the floor
(`floor.py`) keeps boardwatch's per-site limit. Each runs once to settle (baselines, caches,
robots.txt), then they run alternately R times; every run a fresh process, wall time from start
to exit, CPU and peak RSS from wait4. Medians. Also reports the most requests boardwatch had in
flight to one site (≤ 8) and its list pages per board. Target: boardwatch ≤ 0.5× urlwatch wall.

    python benchmarks/latency.py [--boards 300] [--sites 30 1] [--rounds 3]
    python benchmarks/latency.py --smoke      # 20 boards on 2 sites and on 1, 20–60 ms, 1 round
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import Boards, Sites  # noqa: E402
from benchmarks.floor import floor_command  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    SCRAPE,
    Measure,
    alternate,
    measure,
    ratio,
    scrape_config,
    scrape_env,
    urlwatch_command,
    verdict,
)

TARGET = 0.5  # boardwatch wall / urlwatch wall
LIMIT = 8  # boardwatch's default [crawl] concurrency


def case(n: int, sites_count: int, delay: tuple[float, float], rounds: int) -> dict[str, float]:
    boards = Boards(n, posts=200, delay=delay)
    with Sites(boards, sites_count) as sites, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        urls = sites.urls()
        env = scrape_env(work)
        bw = [SCRAPE, "-q", "--config", str(scrape_config(work, urls)), "once"]
        uw, fl = urlwatch_command(work, urls), floor_command(work, urls)
        runs: list[tuple[int, int, int]] = []  # list pages, robots.txt, most in flight

        def boardwatch() -> Measure:
            boards.reset_in_flight()
            lists, robots = boards.requests["list"], boards.requests["robots"]
            m = measure(bw, work, env)
            runs.append(
                (
                    boards.requests["list"] - lists,
                    boards.requests["robots"] - robots,
                    sites.most_in_flight(),
                )
            )
            return m

        med = alternate(
            {
                "boardwatch": boardwatch,
                "urlwatch": lambda: measure(uw, work, env),
                "floor": lambda: measure(fl, work, env),
            },
            rounds,
        )
    quiet = runs[1:]  # the first was the settle run (baselines, robots.txt)
    seen = {
        "lists": max(q[0] for q in quiet),
        "robots": sum(q[1] for q in quiet),
        "flight": max(q[2] for q in runs),
    }
    bw_, uw_, fl_ = med["boardwatch"], med["urlwatch"], med["floor"]
    r = ratio(bw_.wall, uw_.wall)
    print(
        f"  {n} boards on {sites_count} site(s): boardwatch {bw_.wall:.2f} s, urlwatch "
        f"{uw_.wall:.2f} s, floor {fl_.wall:.2f} s → boardwatch/urlwatch ×{r:.2f} "
        f"(target ≤ {TARGET}: {verdict(r <= TARGET)}), boardwatch/floor ×{bw_.wall / fl_.wall:.1f}"
    )
    print(
        f"      CPU: boardwatch {bw_.cpu:.2f} s, urlwatch {uw_.cpu:.2f} s, floor {fl_.cpu:.2f} s; "
        f"peak RSS: {bw_.rss:.0f} / {uw_.rss:.0f} / {fl_.rss:.0f} MiB"
    )
    print(
        f"      boardwatch: most in flight per site: {seen['flight']} (limit {LIMIT}); list "
        f"pages per board per quiet run: {seen['lists'] / n:.2f}; robots.txt requests in "
        f"the quiet runs: {seen['robots']}"
    )
    return {
        "ratio": r,
        "ok": seen["flight"] <= LIMIT and seen["lists"] == n and seen["robots"] == 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=300)
    parser.add_argument("--sites", type=int, nargs="+", default=[30, 1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="20 boards, 2 sites and 1, 1 round")
    args = parser.parse_args()
    delay = (0.05, 0.15)
    if args.smoke:
        args.boards, args.sites, args.rounds, delay = 20, [2, 1], 1, (0.02, 0.06)
    print(
        f"latency: quiet runs, every answer after a uniform {delay[0] * 1000:.0f}–"
        f"{delay[1] * 1000:.0f} ms; each tool with its defaults; settle once, then "
        f"{args.rounds} alternating round(s), medians; fresh process per run"
    )
    results = [case(args.boards, s, delay, args.rounds) for s in args.sites]
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
