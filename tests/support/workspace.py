"""The real `scrape` command run in a scratch directory, in the foreground or the background,
and waiting for what it does to be observable (never a fixed sleep standing in for an event)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from tests.support.board import BoardServer, Post
from tests.support.mail import SmtpSink
from tests.support.zygote import ENABLED as FORK
from tests.support.zygote import ZYGOTE

SCRAPE = shutil.which("scrape", path=str(Path(sys.executable).parent)) or "scrape"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Workspace:
    """A scratch directory with a scrape.toml, and the real `scrape` command to run in it."""

    path: Path
    db_url: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.path / "scrape.toml"

    def write(self, text: str) -> Path:
        """The config; a daemon's HTTP port off unless the test sets one (tests run side by
        side, and a second daemon on the default 127.0.0.1:9464 logs that it is taken)."""
        if "[http]" not in text and not re.search(r"^\[metrics\][^[]*^address", text, re.M | re.S):
            text += '\n[http]\naddress = ""\n'
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def environ(self) -> dict[str, str]:
        return {
            **os.environ,
            "SCRAPE_DATABASE_URL": self.db_url,
            **self.env,
            "SCRAPE_CONFIG": str(self.config),
        }

    def run(self, *args: str, timeout: float = 120, check: int | None = None) -> Result:
        """`scrape ARGS` in a process of its own, to its exit: a child forked from a process
        that has the command's modules imported (`tests.support.zygote`), or the console
        script itself when that is off or busy."""
        forked = ZYGOTE.run(list(args), self.environ(), self.path, timeout) if FORK else None
        if forked is not None:
            result = Result(*forked)
        else:
            proc = subprocess.run(
                [SCRAPE, *args],
                cwd=self.path,
                env=self.environ(),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
            result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check is not None:
            assert result.code == check, f"exit {result.code}, expected {check}:\n{result.all}"
        return result

    @contextmanager
    def started(self, *args: str) -> Iterator[subprocess.Popen[str]]:
        """The real command in the background; its log goes to a file (a full pipe would
        stall it). Killed at the end of the block if it is still running."""
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in the finally below)
        proc = subprocess.Popen(
            [SCRAPE, *args],
            cwd=self.path,
            env=self.environ(),
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        proc.log = log  # type: ignore[attr-defined]
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()

    def sql(self, statement: str, **params: Any) -> None:
        """Change the store behind the command's back (to stand in for time passing)."""
        engine = create_engine(self.db_url)
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()

    def scalar(self, query: str, **params: Any) -> Any:
        """Read one value from the store, as the command left it."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(query), params).scalar()
        finally:
            engine.dispose()

    def rows(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        """Every row a query reads from the store."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(query), params)]
        finally:
            engine.dispose()

    def dump(self) -> dict[str, list[tuple[str, ...]]]:
        """Every row of every table, every column, sorted: the store's whole state."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return {
                    table: sorted(
                        tuple(repr(value) for value in row)
                        for row in conn.execute(text(f'SELECT * FROM "{table}"'))
                    )
                    for table in sorted(inspect(conn).get_table_names())
                }
        finally:
            engine.dispose()

    def runs(self) -> int:
        """Board runs recorded so far (each crawl of each board, once it is stored and judged);
        0 while the command has not created the schema yet."""
        try:
            return int(self.scalar("SELECT count(*) FROM runs") or 0)
        except DBAPIError:
            return 0


def log_of(proc: subprocess.Popen[str]) -> str:
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return str(log.read())


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - start


def received(smtp: SmtpSink, posts: list[Post], to: str | None = None) -> Counter[int]:
    """How many times each post reached `to` (anyone when None), over every mail received.
    Each post appears twice in an email digest: its link and its visible address."""
    bodies = [
        m.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for m in smtp.messages
        if to is None or m["To"] == to
    ]
    return Counter({p.id: sum(b.count(f"no={p.id}&amp;page") for b in bodies) // 2 for p in posts})


def esg_config(
    server: BoardServer, *, urls: list[str], extra: str = "", board: str = "", subscribers: str = ""
) -> str:
    """A scrape.toml for the local ESG board with one subscriber per URL list entry."""
    subs = "".join(
        f'\n[[subscribers]]\nname = "sub{i}"\nurls = [{json.dumps(url)}]\n'
        for i, url in enumerate(urls)
    )
    return f"""
timezone = "Asia/Seoul"
{extra}
[crawl]
retries = 1
retry_backoff = 0.05
timeout = 10

[[boards]]
name = "esg"
title = "ESG 정책뉴스"
url = "{server.list_url}"
profile = "esg"
{board}
{subs}
{subscribers}
"""
