"""Shared fixtures: a local board, a real SMTP server, a Slack request recorder, and a way to
run the real `scrape` command against them in a scratch directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.slack import SlackRecorder

SCRAPE = shutil.which("scrape", path=str(Path(sys.executable).parent)) or "scrape"
PG_URL = os.environ.get("BOARDWATCH_TEST_PG_URL")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite by default; tests parametrized over BACKENDS also
    get a new PostgreSQL database of their own when BOARDWATCH_TEST_PG_URL is set."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'boardwatch.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL: BOARDWATCH_TEST_PG_URL is not set")
    name = f"bw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def run(self, *args: str, timeout: float = 120, check: int | None = None) -> Result:
        env = {
            **os.environ,
            "SCRAPE_DATABASE_URL": self.db_url,
            **self.env,
            "SCRAPE_CONFIG": str(self.config),
        }
        proc = subprocess.run(
            [SCRAPE, *args],
            cwd=self.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check is not None:
            assert result.code == check, f"exit {result.code}, expected {check}:\n{result.all}"
        return result

    def sql(self, statement: str, **params: Any) -> None:
        """Change the store behind the command's back (to stand in for time passing)."""
        engine = create_engine(self.db_url)
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()


@pytest.fixture
def board() -> EsgBoard:
    return EsgBoard()


@pytest.fixture
def board_server(board: EsgBoard) -> Iterator[BoardServer]:
    with BoardServer(board) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def slack() -> Iterator[SlackRecorder]:
    with SlackRecorder() as recorder:
        yield recorder


@pytest.fixture
def workspace(tmp_path: Path, backend: str, slack: SlackRecorder) -> Workspace:
    return Workspace(tmp_path, backend, env=slack.env())


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
