"""Several workers on one database, and workers killed with SIGKILL: every post delivered to
every subscriber exactly once, beyond the one documented window (a target accepted a digest and
the worker died before recording it: that digest is sent again)."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from tests.support.board import BoardServer, EsgBoard, Post
from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, esg_config, received, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")


def subscribers(smtp: SmtpSink, *names: str) -> str:
    return "".join(
        f'\n[[subscribers]]\nname = "{n}"\nurls = ["{smtp.url(f"{n}@example.com")}"]\n'
        for n in names
    )


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
