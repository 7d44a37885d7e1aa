"""The benchmarks still run and still check what they promise: seconds-long smoke versions.

The figures in BENCHMARKS.md come from full runs; here only the behaviour is asserted (one list
page per quiet board, no heavy imports, every digest sent, no errors, never more requests in
flight to a site than its limit, robots.txt read once per site), never a speed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def smoke(script: str) -> str:
    return smoke_run(script)[1]


# Each smoke version takes seconds to a minute alone; the suite's load (two workers a core, and
# whatever else the machine runs) can make one several times slower.
pytestmark = pytest.mark.timeout(300)


def smoke_run(script: str) -> tuple[int, str]:
    command = [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=280)
    except subprocess.TimeoutExpired as exc:  # what it had printed says which part was slow
        parts = (exc.stdout, exc.stderr)  # bytes here, whatever `text` says
        printed = "".join(p.decode() if isinstance(p, bytes) else p or "" for p in parts)
        pytest.fail(f"{script} --smoke ran over 280 s; it printed:\n{printed}")
    return result.returncode, result.stdout + result.stderr


def in_flight(out: str) -> list[tuple[int, int]]:
    """Every "most in flight per site: N (limit L)" the output reports, as (N, L)."""
    found = re.findall(r"most in flight per site: (\d+) \(limit (\d+)\)", out)
    return [(int(n), int(limit)) for n, limit in found]


@pytest.mark.long(16)
def test_soak_smoke_runs_clean() -> None:
    out = smoke("soak.py")
    assert "0 failed runs, 0 error lines in the log; exit code after SIGTERM: 0" in out, out


@pytest.mark.long(11)
def test_quiet_run_smoke_fetches_one_list_page_per_board_and_no_heavy_imports() -> None:
    pytest.importorskip("urlwatch", reason="urlwatch (the comparison) is in the test extra")
    out = smoke("quiet_run.py")
    assert "list pages per board per quiet run: 1.00; heavy imports: none" in out, out
    assert "start-up (a 1-board quiet run): boardwatch" in out, out  # next to urlwatch, floor
    assert "list pages: 1.00" in out and "floor" in out, out


@pytest.mark.long(4)
def test_backfill_smoke_walks_every_page() -> None:
    out = smoke("backfill.py")
    # 20 full, 1 empty: the end (on loopback and, in backfill.py's newer form, far away too)
    assert "21 list pages, 400 posts stored" in out, out


@pytest.mark.long(7)
def test_store_scale_smoke_runs() -> None:
    out = smoke("store_scale.py")
    assert "1,000 posts:" in out and "20,000 posts:" in out, out


@pytest.mark.long(9)
def test_fanout_smoke_sends_every_digest() -> None:
    out = smoke("fanout.py")
    assert "50 subscribers: 50 digests in" in out, out


def test_floor_smoke_reads_every_board_once_and_finds_nothing_new() -> None:
    code, out = smoke_run("floor.py")
    assert "10 boards, 1 site(s):" in out, out
    assert "list pages per board per run: 1.00; last run: floor: 10 boards read, 0 new" in out, out
    assert code == 0, out


@pytest.mark.long(12)
def test_latency_smoke_keeps_the_site_limit_and_stays_quiet() -> None:
    pytest.importorskip("urlwatch", reason="urlwatch (the comparison) is in the test extra")
    code, out = smoke_run("latency.py")
    assert "20 boards on 2 site(s):" in out and "20 boards on 1 site(s):" in out, out
    quiet = "list pages per board per quiet run: 1.00; robots.txt requests in the quiet runs: 0"
    assert out.count(quiet) == 2, out
    flights = in_flight(out)
    assert len(flights) == 2 and all(n <= limit == 8 for n, limit in flights), out
    assert code == 0, out


@pytest.mark.long(20)
def test_daemon_cycle_smoke_quiet_cycles_read_no_robots_and_keep_the_limit() -> None:
    pytest.importorskip("urlwatch", reason="urlwatch (the comparison) is in the test extra")
    code, out = smoke_run("daemon_cycle.py")
    assert "quiet cycles: 2, CPU per quiet cycle" in out, out
    assert "list pages per quiet cycle: 20, 20" in out, out
    assert "robots.txt requests per cycle after the first: 0" in out, out
    assert "2 robots.txt requests (2 sites" in out, out  # the first cycle: one per site
    # a quiet cycle's 20 boards walk together, not a crawl each (2 when they walk in one crawl
    # per lane; a loaded machine may spread their pages' answers over more)
    crawls = re.search(r"crawls per quiet cycle: (\d+), (\d+);", out)
    assert crawls is not None and all(1 <= int(n) <= 10 for n in crawls.groups()), out
    assert "failed: 0; error lines in the log: 0; exit code after SIGTERM: 0" in out, out
    flights = in_flight(out)
    assert len(flights) == 1 and all(n <= limit == 8 for n, limit in flights), out
    assert code == 0, out


@pytest.mark.long(28)
def test_politeness_smoke_keeps_concurrency_and_reads_robots_once_per_site() -> None:
    code, out = smoke_run("politeness.py")
    flights = in_flight(out)
    assert len(flights) == 5 and all(n <= limit == 2 for n, limit in flights), out
    assert "all runs: most in flight per site: 2 (limit 2)" in out, out  # the limit was reached
    assert "robots.txt requests per site over all runs: 1, 1" in out, out
    assert "robots requests after first run: 0" in out, out
    assert code == 0, out


@pytest.mark.long(7)
def test_kill_soak_smoke_loses_nothing() -> None:
    code, out = smoke_run("kill_soak.py")
    assert code == 0 and "lost pairs: 0" in out and "result: PASS" in out, out


needs_pg = pytest.mark.skipif(
    not os.environ.get("BOARDWATCH_TEST_PG_URL"),
    reason="PostgreSQL: BOARDWATCH_TEST_PG_URL is not set (workers share a PostgreSQL database)",
)


@pytest.mark.long(44)
@needs_pg
def test_workers_smoke_crawl_each_board_once_per_interval_and_split_them() -> None:
    code, out = smoke_run("workers.py")
    shares = re.findall(r"(\d) worker\(s\): ([\d.]+) crawls per board per interval", out)
    assert [n for n, _ in shares] == ["2"], out
    assert all(float(rate) <= 1.05 for _, rate in shares), out  # once per interval, whoever
    flights = in_flight(out)
    assert len(flights) == 2 and all(n <= limit == 2 for n, limit in flights), out
    assert "fan-out, 20 subscribers:" in out and "sent 20 and 20" in out, out
    assert code == 0, out


@pytest.mark.long(20)
@needs_pg
def test_remote_db_smoke_asks_at_most_once_per_quiet_board() -> None:
    code, out = smoke_run("remote_db.py")
    trips = re.search(r"round trips per quiet board: ([\d.]+)", out)
    assert trips is not None and float(trips[1]) <= 1.0, out
    startup = re.findall(r"([\d,]+) subscriber\(s\): (\d+) round trips", out)
    assert [n for n, _ in startup] == ["1", "300"], out
    assert len({trips for _, trips in startup}) == 1, out  # start-up: the same for any number
    assert code == 0, out
