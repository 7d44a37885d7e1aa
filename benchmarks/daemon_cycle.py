"""Daemon steady state: `scrape run` with 300 boards every 30 s — CPU per quiet cycle vs urlwatch.

Method: 300 generated ESG-style boards on 30 sites (loopback addresses 127.0.0.2, …, one server
each; every answer after a uniform 50–150 ms); boardwatch's default [crawl] (8 in flight per
site), every board `interval = "30s"`: all fall due together at first, then each an interval
after its own page answered, so a long first crawl spreads them apart until they draw together
again (the crawls a cycle are counted from the runs table, whose rows of one crawl share a start).
`scrape run` starts on an empty database: its first cycle takes the baselines and reads each
site's robots.txt; the cycles after it are quiet. The benchmark watches the server: a cycle starts
with the first request after at least a second without any (and after a whole cycle's list pages).
The daemon's CPU time (utime + stime of /proc/PID/stat, every thread) is read every 0.1 s; a
cycle's CPU is the difference between the readings just before its first request and just before
the next cycle's, so it includes the idle time after it (the scheduler, the due-digest job).
Peak RSS is the kernel's VmHWM. Also counted per cycle: list pages and robots.txt requests; over
the whole run: the most requests in flight to one site, and runs recorded (runs table) and failed.
Before the daemon, on the same boards: urlwatch (its default config, title-only filter) and the
floor (`floor.py`), and `scrape once` for reference: settle once, then R alternating fresh runs,
CPU from wait4, medians. Target: daemon CPU per quiet cycle ≤ 0.5× urlwatch CPU per run.

    python benchmarks/daemon_cycle.py [--boards 300] [--sites 30] [--interval 30] [--cycles 4]
    python benchmarks/daemon_cycle.py --smoke  # 20 boards on 2 sites every 3 s, 2 quiet cycles
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.boardgen import Boards, Sites  # noqa: E402
from benchmarks.floor import floor_command  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    SCRAPE,
    alternate,
    measure,
    ratio,
    scrape_config,
    scrape_env,
    urlwatch_command,
    verdict,
)

TARGET = 0.5  # daemon CPU per quiet cycle / urlwatch CPU per run
LIMIT = 8  # boardwatch's default [crawl] concurrency
TICK = os.sysconf("SC_CLK_TCK")
POLL = 0.1  # seconds between readings
GAP = 1.0  # seconds without a request that end a cycle


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmHWM")


def rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmRSS")


@dataclass
class Boundary:
    """The moment just before a cycle's first request (and the CPU once its work is done)."""

    cpu: float
    lists: int
    robots: int
    at: float
    done: float | None = None  # CPU read GAP seconds after the cycle's last request
    wall: float = 0.0  # the time of day (crawls recorded in the runs table are dated by it)


def watch(
    daemon: subprocess.Popen[bytes], boards: Boards, n: int, cycles: int, timeout: float
) -> tuple[list[Boundary], float, float]:
    """Boundaries of cycles 1 … cycles + 1 (and the start of the one after); peak and current
    RSS."""
    bounds: list[Boundary] = []
    last = sum(boards.requests.values())
    last_change = time.monotonic()
    cpu = cpu_seconds(daemon.pid)
    previous_lists, previous_robots = boards.requests["list"], boards.requests["robots"]
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(POLL)
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited ({daemon.returncode}) after {len(bounds)} cycles")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {len(bounds)} cycles")
        with boards.lock:
            total, lists, robots = (
                sum(boards.requests.values()),
                boards.requests["list"],
                boards.requests["robots"],
            )
        now, reading = time.monotonic(), cpu_seconds(daemon.pid)
        if total != last:
            whole = bounds and previous_lists - bounds[-1].lists >= n
            if not bounds or (whole and now - last_change >= GAP):
                # the previous reading's CPU and counts: the daemon still idle
                bounds.append(
                    Boundary(cpu, previous_lists, previous_robots, now, None, time.time())
                )
            last, last_change = total, now
        elif bounds and bounds[-1].done is None and now - last_change >= GAP:
            bounds[-1].done = reading
            if len(bounds) > cycles:  # the cycle after the last one measured has ended too
                return bounds, peak_rss_mib(daemon.pid), rss_mib(daemon.pid)
        previous_lists, previous_robots, cpu = lists, robots, reading


def runs_recorded(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db, timeout=10) as conn:
        total, failed = conn.execute(
            "SELECT count(*), coalesce(sum(result = 'error'), 0) FROM runs"
        ).fetchone()
    return int(total), int(failed)


@dataclass(frozen=True)
class Crawl:
    """One crawl of the daemon's (its boards' runs share a start)."""

    started: float  # the time of day
    boards: int
    spread: float  # seconds between its first and its last board's end


def crawls_recorded(db: Path) -> list[Crawl]:
    from datetime import UTC, datetime

    def at(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    with sqlite3.connect(db, timeout=10) as conn:
        rows = conn.execute("SELECT started_at, finished_at FROM runs ORDER BY started_at, id")
        crawls: dict[str, list[datetime]] = {}
        for started, finished in rows:
            crawls.setdefault(started, []).append(at(finished))
    return [
        Crawl(at(started).timestamp(), len(ends), (max(ends) - min(ends)).total_seconds())
        for started, ends in crawls.items()
    ]


def crawls_per_cycle(crawls: list[Crawl], bounds: list[Boundary]) -> list[list[Crawl]]:
    """The crawls of each quiet cycle (a crawl starts a little before its first request)."""
    edges = [b.wall - GAP / 2 for b in bounds]
    return [[c for c in crawls if a <= c.started < b] for a, b in itertools.pairwise(edges[1:])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=300)
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--interval", type=int, default=30, help="seconds")
    parser.add_argument("--cycles", type=int, default=4, help="quiet cycles measured")
    parser.add_argument("--rounds", type=int, default=3, help="urlwatch / floor runs")
    parser.add_argument("--smoke", action="store_true", help="20 boards, 2 sites, every 3 s")
    args = parser.parse_args()
    delay = (0.05, 0.15)
    if args.smoke:
        args.boards, args.sites, args.interval, args.cycles, args.rounds = 20, 2, 3, 2, 1
        delay = (0.02, 0.06)
    n = args.boards
    boards = Boards(n, posts=200, delay=delay)
    with Sites(boards, args.sites) as sites, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        urls = sites.urls()
        once_dir, run_dir = work / "once", work / "run"
        once_dir.mkdir(), run_dir.mkdir()
        once = [SCRAPE, "-q", "--config", str(scrape_config(once_dir, urls)), "once"]
        uw, fl = urlwatch_command(work, urls), floor_command(work, urls)
        env = scrape_env(once_dir)
        med = alternate(
            {
                "urlwatch": lambda: measure(uw, work, env),
                "floor": lambda: measure(fl, work, env),
                "once": lambda: measure(once, once_dir, env),
            },
            args.rounds,
        )

        config = scrape_config(run_dir, urls, interval=f"{args.interval}s")
        boards.reset_in_flight()
        with (run_dir / "daemon.log").open("w+") as log:
            daemon = subprocess.Popen(
                [SCRAPE, "--config", str(config), "run"],
                cwd=run_dir,
                env=scrape_env(run_dir),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                timeout = 120 + (args.cycles + 2) * args.interval * 2
                bounds, peak, rss = watch(daemon, boards, n, args.cycles + 1, timeout)
            finally:
                daemon.send_signal(signal.SIGTERM)
                code = daemon.wait(timeout=60)
            log.seek(0)
            text = log.read()
        flight = sites.most_in_flight()
        recorded, failed = runs_recorded(run_dir / "bw.db")
        cycle_crawls = crawls_per_cycle(crawls_recorded(run_dir / "bw.db"), bounds)
        bad = [ln for ln in text.splitlines() if "Traceback" in ln or "ERROR" in ln]

    # cycle k runs from bounds[k - 1] to bounds[k]; cycle 1 is the first (baselines)
    per = [
        (b.cpu - a.cpu, b.lists - a.lists, b.robots - a.robots, b.at - a.at, (a.done or 0) - a.cpu)
        for a, b in itertools.pairwise(bounds)
    ]
    first, quiet = per[0], per[1:]
    cpu_quiet = statistics.median(c for c, *_ in quiet)
    uw_, fl_, once_ = med["urlwatch"], med["floor"], med["once"]
    r = ratio(cpu_quiet, uw_.cpu)
    robots_after = [c[2] for c in quiet]
    lists_quiet = [c[1] for c in quiet]
    print(
        f"daemon cycle: `scrape run`, {n} boards every {args.interval} s on {args.sites} sites "
        f"(answers after {delay[0] * 1000:.0f}–{delay[1] * 1000:.0f} ms), default [crawl]; "
        f"CPU from /proc/PID/stat between cycles; urlwatch, floor and `scrape once`: settle, "
        f"then median of {args.rounds} fresh run(s), CPU from wait4"
    )
    print(
        f"  start-up: {bounds[0].cpu:.2f} s CPU before the first request; first cycle "
        f"(baselines): {first[0]:.2f} s CPU, {first[1]} list pages, {first[2]} robots.txt "
        f"requests ({args.sites} sites, an empty database)"
    )
    every = statistics.median(q[3] for q in quiet)
    print(
        f"  quiet cycles: {len(quiet)}, CPU per quiet cycle {cpu_quiet:.3f} s (median of "
        f"{', '.join(f'{c:.3f}' for c, *_ in quiet)}), every {every:.1f} s; "
        f"list pages per quiet cycle: {', '.join(map(str, lists_quiet))}"
    )
    busy = statistics.median(q[4] for q in quiet)
    print(
        f"  of which the crawl (first request to {GAP:.0f} s after the last): {busy:.3f} s; "
        f"idle until the next cycle (scheduler, due-digest job): {cpu_quiet - busy:.3f} s"
    )
    print(f"  robots.txt requests per cycle after the first: {max(robots_after)}")
    crawled = [c for cycle in cycle_crawls for c in cycle]
    if crawled:
        sizes = sorted(c.boards for c in crawled)
        print(
            f"  crawls per quiet cycle: {', '.join(str(len(c)) for c in cycle_crawls)}; boards "
            f"each: median {statistics.median(sizes):.0f} (fewest {sizes[0]}, most {sizes[-1]}); "
            f"from a crawl's first board's end to its last: median "
            f"{statistics.median(c.spread for c in crawled):.2f} s"
        )
    print(
        f"  peak RSS {peak:.0f} MiB (now {rss:.0f} MiB); most in flight per site: {flight} "
        f"(limit {LIMIT}); runs recorded: {recorded}, failed: {failed}; error lines in the "
        f"log: {len(bad)}; exit code after SIGTERM: {code}"
    )
    print(
        f"  per run, same boards: urlwatch {uw_.cpu:.2f} s CPU / {uw_.wall:.2f} s wall / "
        f"{uw_.rss:.0f} MiB; floor {fl_.cpu:.2f} s CPU / {fl_.wall:.2f} s / {fl_.rss:.0f} MiB; "
        f"`scrape once` {once_.cpu:.2f} s CPU / {once_.wall:.2f} s / {once_.rss:.0f} MiB"
    )
    print(
        f"  daemon CPU per quiet cycle / urlwatch CPU per run: ×{r:.2f} (target ≤ {TARGET}: "
        f"{verdict(r <= TARGET)}); / floor CPU per run: ×{ratio(cpu_quiet, fl_.cpu):.1f}; "
        f"/ `scrape once` CPU: ×{ratio(cpu_quiet, once_.cpu):.2f}"
    )
    for line in bad[:5]:
        print(f"    {line}")
    ok = (
        max(robots_after) == 0
        and all(x == n for x in lists_quiet)
        and flight <= LIMIT
        and not failed
        and not bad
        and code == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
