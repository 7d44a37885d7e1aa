"""Several workers on one database, and workers killed with SIGKILL: every post delivered to
every subscriber exactly once, beyond the one documented window (a target accepted a digest and
the worker died before recording it: that digest is sent again)."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from storage.db import UPGRADE_LOCK
from tests.support.board import BoardServer, EsgBoard, Post
from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, esg_config, log_of, received, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")


def subscribers(smtp: SmtpSink, *names: str) -> str:
    return "".join(
        f'\n[[subscribers]]\nname = "{n}"\nurls = ["{smtp.url(f"{n}@example.com")}"]\n'
        for n in names
    )


@pytest.mark.long(21)
def test_three_workers_on_twenty_boards_deliver_every_post_exactly_once(
    workspace: Workspace, smtp: SmtpSink
) -> None:
    boards = [EsgBoard(posts=40) for _ in range(20)]
    with ExitStack() as stack:
        servers = [stack.enter_context(BoardServer(b)) for b in boards]
        config = "[crawl]\nretries = 1\n" + "".join(
            f'\n[[boards]]\nname = "b{i}"\nurl = "{s.list_url}"\ninterval = "2s"\n'
            for i, s in enumerate(servers)
        )
        workspace.write(config + subscribers(smtp, "alpha", "beta"))
        workspace.run("once", check=0)
        workers = [stack.enter_context(workspace.started("run")) for _ in range(3)]
        published: list[Post] = []
        rng = random.Random(7)
        for _ in range(40):  # posts arriving throughout, about 8 s
            published.append(rng.choice(boards).add(f"worker post {len(published)}"))
            time.sleep(0.2)
        want = Counter({p.id: 1 for p in published})
        wait_until(
            lambda: all(
                received(smtp, published, f"{n}@example.com") == want for n in ("alpha", "beta")
            ),
            60,
            "every post to both subscribers",
        )
        seen = workspace.runs()
        wait_until(lambda: workspace.runs() >= seen + 40, 30, "two more crawls of each board")
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        assert [w.wait(timeout=15) for w in workers] == [0, 0, 0]
    for name in ("alpha", "beta"):
        assert received(smtp, published, f"{name}@example.com") == want


@pytest.mark.long(4)
@pytest.mark.parametrize("round_", range(2))
def test_runs_started_together_on_a_new_database_all_succeed(
    workspace: Workspace, smtp: SmtpSink, round_: int
) -> None:
    """Cron on several hosts, or workers started at once, on a database nobody set up yet: they
    race to create its boards, subscribers, targets and known URLs, and every one of them
    succeeds (each round a new database: the race is at the start)."""
    with ExitStack() as stack:
        server = stack.enter_context(BoardServer(EsgBoard(posts=20)))
        urls = [smtp.url("a@example.com"), smtp.url("b@example.com")]
        workspace.write(esg_config(server, urls=urls) + subscribers(smtp, "alpha", "beta"))
        with start_gate(workspace) as gate:
            runs = [stack.enter_context(workspace.started("-q", "once")) for _ in range(4)]
            gate(len(runs))
        codes = [run.wait(timeout=120) for run in runs]
        logs = [log_of(run) for run in runs]
    assert codes == [0] * len(runs), "\n".join(logs)
    assert not any("IntegrityError" in log or "[SQL" in log for log in logs), "\n".join(logs)
    assert workspace.scalar("SELECT count(*) FROM boards") == 1
    assert workspace.scalar("SELECT count(*) FROM targets") == 4


@contextmanager
def start_gate(workspace: Workspace) -> Iterator[Callable[[int], None]]:
    """On PostgreSQL, the lock that runs take to create a new database's schema, held until
    `n` runs wait for it (`gate(n)`): let go, they go on together, as if started at one moment.
    On SQLite the runs just start (its writers take turns on the whole file)."""
    if workspace.db_url.startswith("sqlite"):
        yield lambda n: None
        return
    engine = create_engine(workspace.db_url)
    waiting = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})

        def gate(n: int) -> None:
            wait_until(
                lambda: conn.execute(text(waiting)).scalar() == n, 60, "every run at the gate"
            )

        try:
            yield gate
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK})
    engine.dispose()


def test_worker_killed_mid_crawl_loses_nothing(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    new = board.add_many(30)  # two list pages of new posts
    board.delay = 1.5
    board.requests.clear()  # (the baseline's own walk went to page 2 as well)
    with workspace.started("once") as doomed:
        wait_until(
            lambda: any("page=2" in r for r in board.list_requests()), 20, "the walk to page 2"
        )
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=5)
    board.delay = 0
    assert not leases_expired(workspace)  # the dead run's lease is still there …
    workspace.run("once", check=0)  # … and the next run on this host takes it over at once
    assert received(smtp, new, "team@example.com") == Counter({p.id: 1 for p in new})


def test_worker_killed_mid_delivery_repeats_only_the_digest_in_flight(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    # one sender, so exactly one digest is in flight when the worker dies (with N senders, up to N)
    extra = "[notify]\nsend_concurrency = 1"
    config = esg_config(board_server, urls=[], extra=extra)
    workspace.write(config + subscribers(smtp, "alpha", "beta"))
    workspace.run("once", check=0)
    new = board.add_many(3)
    smtp.stall = 30.0  # alpha's server stores the digest, then keeps its answer back
    with workspace.started("once") as doomed:
        wait_until(lambda: len(smtp.messages) == 1, 20, "the digest in flight")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=5)
    smtp.stall = 0
    workspace.run("once", check=0)  # the dead run's delivery lease is taken over at once
    once = Counter({p.id: 1 for p in new})
    assert received(smtp, new, "beta@example.com") == once  # never sent before the kill
    in_flight = received(smtp, new, "alpha@example.com")
    assert in_flight == Counter({p.id: 2 for p in new})  # the documented window, nothing more
    workspace.run("once", check=0)
    assert received(smtp, new, "alpha@example.com") == in_flight


def leases_expired(workspace: Workspace) -> bool:
    now = datetime.now(UTC).replace(tzinfo=None)
    return not workspace.scalar("SELECT count(*) FROM locks WHERE expires_at >= :now", now=now)
