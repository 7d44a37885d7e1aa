"""Quiet runs over N boards: `scrape once` against urlwatch and the floor, side by side.

Method: one local generator serves N ESG-style boards whose view counters change on every
request. boardwatch watches each board with the `esg` profile; urlwatch watches each board's first
list page with a title-only filter (`css: td.td_subject a`, then `html2text`), the setup an
operator would use to get the same "new titles" signal; the floor (`floor.py`: asyncio + lxml +
sqlite3, no framework) does one GET, one parse and one indexed SELECT per board. All first run
once to settle their state (not measured), then run alternately R times each; every run is a
fresh process, timed from start to exit, its CPU time and peak resident memory read from the
kernel (wait4). Reports the median wall time, CPU and peak memory of each and the ratios, and
boardwatch's start-up: the wall time of a 1-board quiet run next to urlwatch's and the floor's.
Checks that boardwatch fetched exactly one list page per board and imported neither Apprise,
Jinja2 nor APScheduler.

    pip install -e ".[bench]"                        # urlwatch
    python benchmarks/quiet_run.py --boards 100 300 1000
    python benchmarks/quiet_run.py --smoke           # CI: 10 boards (and 1), one round
    python benchmarks/quiet_run.py --family gnuboard --boards 300   # another family's markup

`--family gnuboard` serves gnuboard5 5.6.34's basic skin instead (the real engine's page around
generated rows: a pinned notice, New icons, comment counts, locks), read with the `gnuboard`
profile; urlwatch's filter is the same (`td.td_subject a` is that skin's title link too).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import FAMILIES, BoardGenerator, Boards  # noqa: E402
from benchmarks.floor import floor_command  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    SCRAPE,
    URLWATCH,
    Measure,
    alternate,
    measure,
    scrape_config,
    urlwatch_command,
)

HEAVY = ("apprise", "jinja2", "apscheduler")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stderr of one run of `cmd`."""
    m = measure(cmd, cwd, env)
    return m.wall, m.rss, m.err


def boardwatch_setup(work: Path, gen: BoardGenerator, n: int) -> list[str]:
    profile = "gnuboard" if gen.boards.family == "gnuboard" else None
    urls = [gen.url(i) for i in range(n)]
    path = scrape_config(work, urls, crawl="concurrency = 8", profile=profile)
    return [SCRAPE, "-q", "--config", str(path), "once"]


def urlwatch_setup(work: Path, gen: BoardGenerator, n: int) -> list[str]:
    return urlwatch_command(work, [gen.url(i) for i in range(n)])


def bench(n: int, rounds: int, *, show: bool = True, family: str = "esg") -> dict[str, float]:
    boards = Boards(n, posts=200, family=family)
    with BoardGenerator(boards) as gen, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}
        bw, uw = boardwatch_setup(work, gen, n), urlwatch_setup(work, gen, n)
        fl = floor_command(work, [gen.url(i) for i in range(n)])
        lists: list[int] = []

        def boardwatch() -> Measure:
            before = boards.requests["list"]
            m = measure(bw, work, env)
            lists.append(boards.requests["list"] - before)
            return m

        medians = alternate(
            {
                "boardwatch": boardwatch,
                "urlwatch": lambda: measure(uw, work, env),
                "floor": lambda: measure(fl, work, env),
            },
            rounds,
        )
        imports = measure(bw, work, {**env, "PYTHONPROFILEIMPORTTIME": "1"}).err
    loaded = sorted({m for m in HEAVY if f" {m}" in imports or f"| {m}" in imports})
    result = {f"{tool}_{k}": getattr(m, k) for tool, m in medians.items() for k in Measure.FIGURES}
    result.update(list_pages=max(lists[1:]) / n, heavy_imports=len(loaded))
    bw_, uw_, fl_ = medians["boardwatch"], medians["urlwatch"], medians["floor"]
    if show:
        print(
            f"  {n:>5} boards: boardwatch {bw_.wall:.2f} s / {bw_.rss:.0f} MiB, urlwatch "
            f"{uw_.wall:.2f} s / {uw_.rss:.0f} MiB → wall ×{bw_.wall / uw_.wall:.2f}, memory "
            f"×{bw_.rss / uw_.rss:.2f}; list pages per board per quiet run: "
            f"{result['list_pages']:.2f}; heavy imports: {', '.join(loaded) or 'none'}"
        )
        print(
            f"         floor {fl_.wall:.2f} s / {fl_.rss:.0f} MiB; CPU: boardwatch "
            f"{bw_.cpu:.2f} s, urlwatch {uw_.cpu:.2f} s, floor {fl_.cpu:.2f} s; boardwatch "
            f"×{bw_.wall / fl_.wall:.1f} the floor's wall (urlwatch ×{uw_.wall / fl_.wall:.1f}), "
            f"×{bw_.rss / fl_.rss:.1f} its memory (urlwatch ×{uw_.rss / fl_.rss:.1f})"
        )
    return result


def startup(rounds: int, family: str = "esg") -> dict[str, float]:
    """Start-up: the wall time of a 1-board quiet run."""
    r = bench(1, rounds, show=False, family=family)
    bw, uw, fl = r["boardwatch_wall"], r["urlwatch_wall"], r["floor_wall"]
    print(
        f"  start-up (a 1-board quiet run): boardwatch {bw:.2f} s / {r['boardwatch_rss']:.0f} "
        f"MiB, urlwatch {uw:.2f} s / {r['urlwatch_rss']:.0f} MiB, floor {fl:.2f} s / "
        f"{r['floor_rss']:.0f} MiB → boardwatch ×{bw / uw:.2f} urlwatch, ×{bw / fl:.1f} floor; "
        f"list pages: {r['list_pages']:.2f}"
    )
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-startup", action="store_true", help="skip the 1-board start-up")
    parser.add_argument("--smoke", action="store_true", help="10 boards (and 1), one round")
    parser.add_argument(
        "--family",
        choices=FAMILIES,
        default="esg",
        help="the boards' markup (gnuboard: 5.6.34's basic skin)",
    )
    args = parser.parse_args()
    if URLWATCH is None:
        raise SystemExit('urlwatch is not installed: pip install -e ".[bench]"')
    if args.smoke:
        args.boards, args.rounds = [10], 1
    print(
        f"quiet run: `scrape once` vs urlwatch (title-only filter) and the floor (floor.py), "
        f"{args.rounds} alternating round(s) after one settle run each, medians; fresh process "
        "per run; CPU and peak RSS from wait4"
    )
    print(f"boards: {args.family} markup, all on one site")
    results = [] if args.no_startup else [startup(args.rounds, args.family)]
    results += [bench(n, args.rounds, family=args.family) for n in args.boards]
    return 0 if all(r["list_pages"] == 1 and not r["heavy_imports"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
