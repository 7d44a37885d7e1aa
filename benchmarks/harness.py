"""What the benchmarks share: the tools' commands and configs, and measuring one run of one.

Every measured run is a fresh process, timed from start to exit; its CPU time (user + system)
and peak resident memory come from the kernel (`wait4`: ru_utime, ru_stime, ru_maxrss).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Measured as installed: an installed package has its bytecode compiled (pip does it), while a
# checkout under PYTHONDONTWRITEBYTECODE would compile every module on every run — ~0.1 s of a
# quiet run that no user pays. Every tool measured here gets the same cache, written by the
# settle runs that precede every measurement, in a folder of its own.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault(
    "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "boardwatch-bench-pycache")
)

BIN = Path(sys.executable).parent
SCRAPE = shutil.which("scrape", path=str(BIN)) or "scrape"
URLWATCH = shutil.which("urlwatch", path=str(BIN)) or shutil.which("urlwatch")
SUBSCRIBER = (  # never reached in a quiet run: nothing new, nothing sent
    '[[subscribers]]\nname = "team"\n'
    'urls = ["mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"]\n'
)


@dataclass(frozen=True)
class Measure:
    wall: float  # seconds, start to exit
    cpu: float  # seconds of CPU, user + system, of the process and its waited-for children
    rss: float  # peak resident memory, MiB
    err: str  # its stderr

    FIGURES = ("wall", "cpu", "rss")

    @staticmethod
    def median(runs: Sequence[Measure]) -> Measure:
        return Measure(
            statistics.median(r.wall for r in runs),
            statistics.median(r.cpu for r in runs),
            statistics.median(r.rss for r in runs),
            runs[-1].err,
        )


def measure(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> Measure:
    """Run `cmd` to its end; fail loudly if it fails."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{text[-2000:]}")
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def alternate(
    commands: dict[str, Callable[[], Measure]], rounds: int, settle: bool = True
) -> dict[str, Measure]:
    """Each command once to settle (not measured), then all of them in turn `rounds` times;
    the median of each."""
    if settle:
        for run in commands.values():
            run()
    runs: dict[str, list[Measure]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, run in commands.items():
            runs[name].append(run())
    return {name: Measure.median(r) for name, r in runs.items()}


# The daemon's HTTP port off: the test suite runs several benchmarks' daemons at once, and a second
# daemon on the default 127.0.0.1:9464 logs that the port is taken (an error line the soak counts).
NO_PORT = '[http]\naddress = ""\n'


def scrape_config(
    work: Path,
    urls: Sequence[str],
    *,
    crawl: str = "",
    interval: str | None = None,
    subscriber: bool = True,
    profile: str | None = None,
) -> Path:
    """A scrape.toml watching `urls` (board `b{i}`, the `esg` profile); `crawl`: the lines of
    its [crawl] table ("" keeps every default)."""
    every = f'interval = "{interval}"\n' if interval else ""
    every += f'profile = "{profile}"\n' if profile else ""
    boards = "".join(
        f'[[boards]]\nname = "b{i}"\nurl = "{url}"\n{every}\n' for i, url in enumerate(urls)
    )
    head = f"[crawl]\n{crawl}\n" if crawl else ""
    path = work / "scrape.toml"
    text = head + NO_PORT + boards + (SUBSCRIBER if subscriber else "")
    path.write_text(text, encoding="utf-8")
    return path


def scrape_env(work: Path) -> dict[str, str]:
    return {**os.environ, "SCRAPE_DATABASE_URL": f"sqlite:///{work / 'bw.db'}"}


def urlwatch_command(work: Path, urls: Sequence[str]) -> list[str]:
    """urlwatch watching each URL with a title-only filter, its default config otherwise
    (reports to stdout only)."""
    jobs = "---\n".join(
        f"name: b{i}\nurl: {url}\nfilter:\n  - css: td.td_subject a\n  - html2text\n"
        for i, url in enumerate(urls)
    )
    (work / "urls.yaml").write_text(jobs, encoding="utf-8")
    (work / "urlwatch.yaml").write_text(
        "display: {new: false, error: true, unchanged: false}\n"
        "report:\n  stdout: {enabled: true, color: false}\n  email: {enabled: false}\n",
        encoding="utf-8",
    )
    if URLWATCH is None:
        raise SystemExit('urlwatch is not installed: pip install -e ".[bench]"')
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


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
