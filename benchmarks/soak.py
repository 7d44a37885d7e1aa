"""Soak: the daemon (`scrape run`) through N scheduled crawls in one process.

Method: local ESG-style boards (live view counters, a new post every few seconds) and a local SMTP
server run in this process; `scrape run` runs as a child process with every board on a short
interval. The child's resident memory (VmRSS, /proc) is sampled every second; crawls are counted
from the store's runs table. Growth is measured from the end of warm-up (the first 10% of crawls,
when imports and caches settle) to the end. Errors are runs recorded as errors plus log lines at
ERROR level or with a traceback. Exits 1 when growth exceeds the target or anything failed.

    python benchmarks/soak.py                 # 1,000 crawls over 10 boards (about two minutes)
    python benchmarks/soak.py --smoke         # seconds: 2 boards, 20 crawls
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import NO_PORT  # noqa: E402
from tests.support.board import BoardServer, EsgBoard  # noqa: E402
from tests.support.mail import SmtpSink  # noqa: E402

SCRAPE = shutil.which("scrape", path=str(Path(sys.executable).parent)) or "scrape"
TARGET_GROWTH_MIB = 20.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def crawls_done(db: Path) -> tuple[int, int]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            total, errors = conn.execute(
                "SELECT count(*), coalesce(sum(result = 'error'), 0) FROM runs"
            ).fetchone()
            return int(total), int(errors)
    except sqlite3.Error:
        return 0, 0


def config(servers: list[BoardServer], smtp: SmtpSink, interval: str) -> str:
    boards = "".join(
        f'\n[[boards]]\nname = "board{i}"\nurl = "{s.list_url}"\ninterval = "{interval}"\n'
        for i, s in enumerate(servers)
    )
    subscriber = f'[[subscribers]]\nname = "soak"\nurls = ["{smtp.url()}"]\n'
    return f"[crawl]\nretries = 1\n{NO_PORT}{boards}\n{subscriber}"


def publish(boards: list[EsgBoard], every: float, stop: threading.Event) -> None:
    i = 0
    while not stop.wait(every):
        boards[i % len(boards)].add(f"soak post {i}")
        i += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crawls", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--smoke", action="store_true", help="2 boards, 20 crawls")
    args = parser.parse_args()
    if args.smoke:
        args.crawls, args.boards = 20, 2
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        boards = [EsgBoard(posts=400) for _ in range(args.boards)]
        servers = [stack.enter_context(BoardServer(b)) for b in boards]
        smtp = stack.enter_context(SmtpSink())
        (work / "scrape.toml").write_text(config(servers, smtp, args.interval), encoding="utf-8")
        env = {**os.environ, "SCRAPE_CONFIG": str(work / "scrape.toml"), "SCRAPE_DATABASE_URL": ""}
        subprocess.run([SCRAPE, "-q", "once"], cwd=work, env=env, check=True)  # the baselines
        baseline_runs = crawls_done(work / "boardwatch.db")[0]
        stop = threading.Event()
        threading.Thread(target=publish, args=(boards, 3.0, stop), daemon=True).start()
        log = (work / "daemon.log").open("w+")
        daemon = subprocess.Popen(
            [SCRAPE, "run"], cwd=work, env=env, stderr=log, stdout=subprocess.DEVNULL
        )
        samples: list[tuple[int, float]] = []
        started = time.monotonic()
        warm_rss = None
        while True:
            time.sleep(1)
            done, _ = crawls_done(work / "boardwatch.db")
            done -= baseline_runs
            samples.append((done, rss_mib(daemon.pid)))
            if warm_rss is None and done >= max(1, args.crawls // 10):
                warm_rss = samples[-1][1]
            if done >= args.crawls or daemon.poll() is not None:
                break
        elapsed = time.monotonic() - started
        stop.set()
        end_rss = rss_mib(daemon.pid) if daemon.poll() is None else 0.0
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        log.seek(0)
        text = log.read()
        total, failed_runs = crawls_done(work / "boardwatch.db")
        bad_lines = [
            ln
            for ln in text.splitlines()
            if "Traceback" in ln or "ERROR" in ln or "Unhandled" in ln
        ]
        growth = end_rss - (warm_rss or end_rss)
        print("soak: the daemon (`scrape run`) through scheduled crawls in one process")
        print(
            f"  method: {args.boards} local boards every {args.interval}, a new post every 3 s, "
            "RSS from /proc every 1 s"
        )
        print(
            f"  crawls: {total - baseline_runs} in {elapsed:.0f} s; digests delivered: "
            f"{len(smtp.messages)}"
        )
        print(
            f"  memory: {warm_rss or 0:.1f} MiB after warm-up, {end_rss:.1f} MiB at the end, "
            f"growth {growth:+.1f} MiB (target ≤ {TARGET_GROWTH_MIB:.0f} MiB), "
            f"peak {max(r for _, r in samples):.1f} MiB"
        )
        print(
            f"  errors: {failed_runs} failed runs, {len(bad_lines)} error lines in the log; "
            f"exit code after SIGTERM: {code}"
        )
        for line in bad_lines[:5]:
            print(f"    {line}")
        ok = growth <= TARGET_GROWTH_MIB and not failed_runs and not bad_lines and code == 0
        print(f"  result: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
