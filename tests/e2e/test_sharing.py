"""Workers sharing one database, as the sites see them: every board crawled once per interval
whoever crawls it, the boards split between workers started at different times, and a site's
`concurrency` held across all of them — a cron `once` beside the daemons included."""

from __future__ import annotations

import itertools
import re
import signal
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, log_of, wait_until

sys.path.insert(0, str(Path(__file__).parents[2]))
from benchmarks.boardgen import Boards, Sites

pytestmark = pytest.mark.filterwarnings("ignore")

INTERVAL = 4.0


def config(sites: Sites, concurrency: int) -> str:
    boards = "".join(
        f'[[boards]]\nname = "b{i}"\nurl = "{url}"\ninterval = "{INTERVAL:.0f}s"\n\n'
        for i, url in enumerate(sites.urls())
    )
    return f"[crawl]\nconcurrency = {concurrency}\nretries = 0\n\n{boards}"


@pytest.mark.long(22)
def test_three_workers_started_apart_crawl_each_board_once_per_interval_and_share_them(
    workspace: Workspace,
) -> None:
    boards = Boards(12, posts=30, delay=(0.05, 0.15))
    with Sites(boards, 3) as sites, ExitStack() as stack:
        workspace.write(config(sites, concurrency=2))
        workspace.run("once", check=0)  # baselines: the daemons start from a quiet store
        boards.reset_in_flight()
        start = time.monotonic()
        workers = []
        for _ in range(3):  # each started once the one before is up: their clocks never line up
            workers.append(stack.enter_context(workspace.started("run")))
            up = workers[-1]
            wait_until(lambda up=up: "daemon started" in log_of(up), 30, "the worker up")
        # four intervals with all three up (starting them took seconds on a loaded machine)
        all_up = time.monotonic()
        wait_until(lambda: time.monotonic() - all_up > 4 * INTERVAL, 30, "four intervals")
        end = time.monotonic()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        assert [w.wait(timeout=15) for w in workers] == [0, 0, 0]
        logs = [log_of(w) for w in workers]
        times = boards.crawl_times()
        most = sites.most_in_flight()
    for board in range(12):
        seen = [t for t in times[board] if t >= start]
        gaps = [b - a for a, b in itertools.pairwise(seen)]
        # once per interval: never sooner — by design, not by luck: a board is due an interval
        # after its own page answered (the database's clock), whoever crawls it, however long
        # its crawl batch took on a loaded machine …
        assert all(gap > INTERVAL - 0.5 for gap in gaps), (board, gaps)
        # … and crawled again, more than once, in four intervals (a loaded machine is later)
        crawls = sum(1 for t in seen if all_up <= t < end)
        assert 2 <= crawls <= 5, (board, crawls)
    shares = [len(re.findall(r"b\d+: 1 page", log)) for log in logs]
    assert sum(1 for share in shares if share) >= 2, shares  # the boards are split
    assert most <= 2  # one site's concurrency across all three workers


@pytest.mark.long(9)
def test_a_cron_once_beside_two_daemons_keeps_each_sites_limit(workspace: Workspace) -> None:
    boards = Boards(8, posts=30, delay=(0.1, 0.2))
    with Sites(boards, 2) as sites, ExitStack() as stack:
        workspace.write(config(sites, concurrency=2).replace('"4s"', '"1s"'))
        workspace.run("once", check=0)
        boards.reset_in_flight()
        daemons = [stack.enter_context(workspace.started("run")) for _ in range(2)]
        wait_until(lambda: workspace.runs() >= 8 * 3, 30, "the daemons' crawls")
        ran = [workspace.run("once") for _ in range(3)]  # cron's runs, while the daemons crawl
        for daemon in daemons:
            daemon.send_signal(signal.SIGTERM)
        assert [d.wait(timeout=15) for d in daemons] == [0, 0]
        most = sites.most_in_flight()
    assert [r.code for r in ran] == [0, 0, 0], [r.all for r in ran]
    assert most <= 2


@pytest.mark.long(14)
def test_boards_falling_due_one_after_another_walk_in_one_crawl_none_sooner_than_its_slack(
    workspace: Workspace,
) -> None:
    """Each board is due an interval after its own page answered, so a crawl's boards fall due
    one after another: the daemon takes with a board due the boards of its cadence due within
    their slack and a little more (a twentieth of the interval each), in one crawl, and asks for
    each no sooner than its slack before it is due."""
    boards = Boards(2, posts=30)
    with Sites(boards, 1) as sites:
        workspace.write(config(sites, concurrency=2).replace(f'"{INTERVAL:.0f}s"', '"20s"'))
        workspace.run("once", check=0)
        before = workspace.runs()
        with workspace.started("run") as daemon:
            wait_until(lambda: "daemon started" in log_of(daemon), 30, "the daemon up")
            clock = time.monotonic()
            due = {"b0": 6.0, "b1": 7.6}  # seconds from now; slack 1 s: b1 is not due within it
            falls_due(workspace, due, every=20)
            daemon.send_signal(signal.SIGHUP)  # its lanes look again (they may sleep 30 s)
            wait_until(lambda: workspace.runs() >= before + 2, 40, "both boards crawled")
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=15) == 0
        asked = boards.crawl_times()
    crawls = workspace.rows("SELECT started_at FROM runs ORDER BY id DESC LIMIT 2")
    assert len(set(crawls)) == 1, crawls  # one crawl, both boards
    assert asked[1][-1] >= clock + due["b1"] - 1.0 - 0.05  # never more than its slack early


def falls_due(workspace: Workspace, due: dict[str, float], every: float) -> None:
    """Each board falls due so many seconds from now: its page answered an interval before."""
    wall = datetime.now(UTC)
    for name, seconds in due.items():
        last = wall + timedelta(seconds=seconds - every)
        workspace.sql(
            "UPDATE boards SET crawled_at = :at WHERE name = :name",
            at=last.replace(tzinfo=None),
            name=name,
        )


@pytest.mark.long(14)
def test_a_board_the_crawl_waits_for_delays_no_digest_and_no_stop(
    workspace: Workspace, smtp: SmtpSink
) -> None:
    """A crawl that waits for a board not yet due sends the digests of what it found before
    that board is asked for; SIGTERM while it waits stops the daemon at once, and the board it
    waited for is still due."""
    boards = Boards(2, posts=30)
    with Sites(boards, 1) as sites:
        subscriber = f'[[subscribers]]\nname = "team"\nurls = ["{smtp.url()}"]\n'
        every = config(sites, concurrency=2).replace(f'"{INTERVAL:.0f}s"', '"10m"')
        workspace.write(f"{every}\n{subscriber}")  # slack 30 s: a claim reaches 60 s ahead
        workspace.run("once", check=0)
        boards.add(0)
        clock = time.monotonic()
        falls_due(workspace, {"b0": 0.0, "b1": 58.0}, every=600)  # b1 is asked for at 28 s
        waited = workspace.rows("SELECT crawled_at FROM boards WHERE name = 'b1'")
        with workspace.started("run") as daemon:
            # what matters is the order: the digest is in while b1 has not been asked for
            wait_until(lambda: len(smtp.messages) >= 1, 25, "the digest of b0's new post")
            assert not asked_b1(boards, clock)
            daemon.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            assert daemon.wait(timeout=15) == 0
            assert time.monotonic() - stopped < 10
    assert not asked_b1(boards, clock)  # never asked for, never recorded: due as it was
    assert workspace.rows("SELECT crawled_at FROM boards WHERE name = 'b1'") == waited
    assert len(smtp.messages) == 1


def asked_b1(boards: Boards, since: float) -> list[float]:
    """When b1's page 1 was asked for since `since` (monotonic)."""
    return [t for t in boards.crawl_times().get(1, []) if t >= since]


@pytest.mark.long(8)
def test_the_posts_one_crawl_finds_on_its_boards_go_in_one_digest(
    workspace: Workspace, smtp: SmtpSink
) -> None:
    """Boards walked in one crawl that each found a post: one digest with all of them — their
    pages answering one after another (one at a time, 0.4 s each), not all at once."""
    boards = Boards(3, posts=30)
    with Sites(boards, 1) as sites:
        subscriber = f'[[subscribers]]\nname = "team"\nurls = ["{smtp.url()}"]\n'
        every = config(sites, concurrency=1).replace(f'"{INTERVAL:.0f}s"', '"10m"')
        workspace.write(f"{every}\n{subscriber}")
        workspace.run("once", check=0)
        for board in range(3):
            boards.add(board)
        boards.delay = 0.4
        falls_due(workspace, {"b0": 0.0, "b1": 0.0, "b2": 0.0}, every=600)
        with workspace.started("run") as daemon:
            wait_until(lambda: len(smtp.messages) >= 1, 30, "the digest")
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=15) == 0
    (message,) = smtp.messages  # one, after the daemon stopped: no second one followed
    body = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    new = [board * 1_000_000 + 31 for board in range(3)]  # each board's new post
    assert all(f"no={post}&amp;page" in body for post in new), body
