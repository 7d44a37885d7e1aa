"""A process that has imported what `scrape` imports, and forks a child to run each command.

Most of an end-to-end test's `scrape once` is start-up: importing Scrapy, Twisted, SQLAlchemy,
Apprise and Jinja (about a second of CPU here) before the command reads its config. The child of
a fork starts with those imported and nothing else done — no reactor installed, no logging set
up, no database opened — and runs the console script's own function (`scheduler.entry`)
as a fresh `scrape` process would: its own pid, process group, environment, working directory,
standard streams and exit code. Only the imports are shared. Tests whose subject is the process
itself (signals, kill -9, a daemon in the background) start the real console script
(`Workspace.started`); `BOARDWATCH_TEST_FORK=0` makes every run do so.

What a fork does not give: a string hash seed of its own (every child of one zygote orders a set
of strings alike; the console script's runs differ), and the code of another checkout — the
zygote imports the one the tests run from, as the editable install of README step 2 does. A run
whose environment changes what an interpreter reads at its start (`PYTHON*`, the locale) starts
the console script; `TZ` is read again in the child.

Protocol, one line of JSON each way per command: the test sends
`{"argv", "env", "cwd", "stdout", "stderr"}` (the two as file paths); the zygote answers
`{"pid"}` once the child is forked, then `{"code"}` once it has exited.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

# What a `once`, `run` or `digest` imports on its way (the CLI imports the rest lazily). A module
# here is imported before any test's environment exists: none of them reads it at import.
PRELOAD = (
    "scheduler",
    "scheduler.cli",
    "scheduler.crawl",
    "scheduler.cycle",
    "scheduler.delivery",
    "scraper.pipelines",
    "scraper.spiders.board",
    "scrapy.crawler",
    "scrapy.core.engine",
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.retry",
    "twisted.internet.asyncioreactor",
    "twisted.web.client",
    "apprise",
    "jinja2",
    "alembic.command",
    "lxml.html",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a module renamed: the child imports it itself
            importlib.import_module(name)
    _crawl_components()
    if "twisted.internet.reactor" in sys.modules:  # the child must install its own reactor
        raise SystemExit("zygote: a preloaded module installed a reactor")
    if threading.active_count() != 1:  # forking a process with threads copies their locks held
        raise SystemExit(f"zygote: {threading.active_count()} threads after the imports")


def _crawl_components() -> None:
    """Every component a crawl's settings name, as the crawl loads them (switched off or not:
    Scrapy imports them all to build its lists, `scraper/settings.py` says why)."""
    with contextlib.suppress(Exception):  # the child loads them itself
        from scrapy.settings import Settings

        from scraper.settings import crawl_settings

        settings = Settings(
            crawl_settings(
                user_agent="-",
                obey_robots=True,
                concurrency=1,
                delay=0,
                timeout=1,
                retries=0,
                retry_backoff=0,
                max_size=1,
            )
        )
        for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS"):
            settings.get_component_priority_dict_with_base(name)


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the command's process, run it, never return."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own group, as a subprocess the test kills is
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stdin = os.open(os.devnull, os.O_RDONLY)
        stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # a new interpreter reads TZ at its start
        os.chdir(request["cwd"])
        sys.argv = ["scrape", *request["argv"]]
        import random

        random.seed()  # not the zygote's sequence, shared by every child

        from scheduler import entry

        entry()  # the console script's own function; it ends with os._exit
    except SystemExit as exc:  # argparse's exits
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # a crash is the command's exit 1, with its traceback
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(requests: IO[str], answers: IO[str]) -> None:
    """The zygote's loop: one command at a time, until its input closes."""
    _preload()
    answers.write("ready\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        status = _wait(pid, requests)
        if status is None:  # the test side is gone: so is the command
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        answers.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


def _wait(pid: int, requests: IO[str]) -> int | None:
    """The child's wait status; None if the zygote's input closes first (nothing is sent to
    it while a command runs, so anything readable is its end)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        readable, _, _ = select.select([requests], [], [], 0.05)
        if readable:
            return None


class Zygote:
    """The test side: one zygote per test process, started on first use."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._pending = b""
        self._lock = threading.Lock()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.zygote"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                cwd=Path(__file__).resolve().parents[2],
            )
            self._pending = b""
            assert self._answer(120) == "ready", "the test zygote did not start"
        return self._proc

    def _answer(self, timeout: float) -> str | None:
        """The zygote's next line, or None if none came within `timeout` seconds."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            assert chunk, "the test zygote exited"
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode()

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> tuple[int, str, str] | None:
        """Run `scrape ARGV` in a forked child; None — the caller starts the console script
        instead — when another thread is using the zygote, or when `env` changes what an
        interpreter reads only as it starts (`PYTHON*`, the locale)."""
        if any(env.get(k) != os.environ.get(k) for k in {*env, *os.environ} if _read_at_start(k)):
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._run(argv, env, cwd, timeout)
        finally:
            self._lock.release()

    def _run(
        self, argv: list[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> tuple[int, str, str]:
        import tempfile

        proc = self._started()
        assert proc.stdin is not None
        pid: int | None = None
        with tempfile.TemporaryDirectory(prefix="scrape-run-") as tmp:
            out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
            request = {"argv": argv, "env": env, "cwd": str(cwd), "stdout": str(out)}
            try:
                proc.stdin.write((json.dumps({**request, "stderr": str(err)}) + "\n").encode())
                pid = json.loads(self._answer(60) or "null")["pid"]
                answer = self._answer(timeout)
                if answer is None:
                    raise subprocess.TimeoutExpired(["scrape", *argv], timeout)
                code = json.loads(answer)["code"]
            except BaseException:  # timed out, or the test was (pytest-timeout, Ctrl-C):
                self._abandon(pid)  # no child outlives it, and no answer is left to misread
                raise
            # strict, as `subprocess.run(text=True)` reads a real process's output
            return code, out.read_text("utf-8"), err.read_text("utf-8")

    def _abandon(self, pid: int | None) -> None:
        """Kill the command's process group and the zygote; the next run starts a new one."""
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def _read_at_start(name: str) -> bool:
    return name.startswith(("PYTHON", "LC_")) or name == "LANG"


ZYGOTE = Zygote()
ENABLED = os.environ.get("BOARDWATCH_TEST_FORK", "1") != "0" and hasattr(os, "fork")


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
