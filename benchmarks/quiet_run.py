"""Quiet runs over N boards: `scrape once` against urlwatch, side by side.

Method: one local generator serves N ESG-style boards whose view counters change on every
request. boardwatch watches each board with the `esg` profile; urlwatch watches each board's first
list page with a title-only filter (`css: td.td_subject a`, then `html2text`), the setup an
operator would use to get the same "new titles" signal. Both first run once to settle their state
(not measured), then run alternately R times each; every run is a fresh process, timed from start
to exit, its peak resident memory read from the kernel (wait4 ru_maxrss). Reports the median wall
time and peak memory of each and the ratios; checks that boardwatch fetched exactly one list page
per board and imported neither Apprise, Jinja2 nor APScheduler.

    pip install -e ".[bench]"                        # urlwatch
    python benchmarks/quiet_run.py --boards 100 300 1000
    python benchmarks/quiet_run.py --smoke           # CI: 10 boards, one round
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import BoardGenerator, Boards  # noqa: E402

BIN = Path(sys.executable).parent
SCRAPE = shutil.which("scrape", path=str(BIN)) or "scrape"
URLWATCH = shutil.which("urlwatch", path=str(BIN)) or shutil.which("urlwatch")
HEAVY = ("apprise", "jinja2", "apscheduler")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stderr of one run of `cmd`."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{text[-2000:]}")
    return wall, usage.ru_maxrss / 1024, text


def boardwatch_setup(work: Path, gen: BoardGenerator, n: int) -> list[str]:
    boards = "".join(f'[[boards]]\nname = "b{i}"\nurl = "{gen.url(i)}"\n\n' for i in range(n))
    (work / "scrape.toml").write_text(
        f'[crawl]\nconcurrency = 8\n\n{boards}[[subscribers]]\nname = "team"\n'
        'urls = ["mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"]\n',
        encoding="utf-8",
    )
    return [SCRAPE, "-q", "--config", str(work / "scrape.toml"), "once"]


def urlwatch_setup(work: Path, gen: BoardGenerator, n: int) -> list[str]:
    jobs = "---\n".join(
        f"name: b{i}\nurl: {gen.url(i)}\nfilter:\n  - css: td.td_subject a\n  - html2text\n"
        for i in range(n)
    )
    (work / "urls.yaml").write_text(jobs, encoding="utf-8")
    (work / "urlwatch.yaml").write_text(
        "display: {new: false, error: true, unchanged: false}\n"
        "report:\n  stdout: {enabled: true, color: false}\n  email: {enabled: false}\n",
        encoding="utf-8",
    )
    return [
        str(URLWATCH),
        "--urls",
        str(work / "urls.yaml"),
        "--config",
        str(work / "urlwatch.yaml"),
        "--cache",
        str(work / "cache.db"),
        "--hooks",
        str(work / "hooks.py"),
    ]


def bench(n: int, rounds: int) -> dict[str, float]:
    boards = Boards(n, posts=200)
    with BoardGenerator(boards) as gen, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}
        bw, uw = boardwatch_setup(work, gen, n), urlwatch_setup(work, gen, n)
        timed(bw, work, env), timed(uw, work, env)  # settle: baselines, caches
        runs: dict[str, list[tuple[float, float]]] = {"boardwatch": [], "urlwatch": []}
        lists: list[int] = []
        for _ in range(rounds):
            before = boards.requests["list"]
            wall, rss, _ = timed(bw, work, env)
            lists.append(boards.requests["list"] - before)
            runs["boardwatch"].append((wall, rss))
            wall, rss, _ = timed(uw, work, env)
            runs["urlwatch"].append((wall, rss))
        _, _, imports = timed(bw, work, {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    loaded = sorted({m for m in HEAVY if f" {m}" in imports or f"| {m}" in imports})
    result = {
        f"{tool}_{k}": statistics.median(v[i] for v in runs[tool])
        for tool in runs
        for i, k in enumerate(("wall", "rss"))
    }
    result.update(list_pages=max(lists) / n, heavy_imports=len(loaded))
    bw_wall, bw_rss = result["boardwatch_wall"], result["boardwatch_rss"]
    uw_wall, uw_rss = result["urlwatch_wall"], result["urlwatch_rss"]
    print(
        f"  {n:>5} boards: boardwatch {bw_wall:.2f} s / {bw_rss:.0f} MiB, urlwatch "
        f"{uw_wall:.2f} s / {uw_rss:.0f} MiB → wall ×{bw_wall / uw_wall:.2f}, memory "
        f"×{bw_rss / uw_rss:.2f}; list pages per board per quiet run: {result['list_pages']:.2f}; "
        f"heavy imports: {', '.join(loaded) or 'none'}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="10 boards, one round")
    args = parser.parse_args()
    if URLWATCH is None:
        raise SystemExit('urlwatch is not installed: pip install -e ".[bench]"')
    if args.smoke:
        args.boards, args.rounds = [10], 1
    print(
        f"quiet run: `scrape once` vs urlwatch (title-only filter), {args.rounds} alternating "
        "round(s), medians; fresh process per run; peak RSS from wait4"
    )
    results = [bench(n, args.rounds) for n in args.boards]
    return 0 if all(r["list_pages"] == 1 and not r["heavy_imports"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
