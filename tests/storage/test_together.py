"""Runs that start together on a store that has not seen their config yet (workers started at
once on a new database, cron on several hosts): each stores the boards, subscribers, targets and
known URLs it was given, once, and none fails because another stored them a moment before."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select

from storage import Store, ledger, posts
from storage.models import Board, KnownUrl, Subscriber, Target

T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)
RUNS = 4


def start_up(store: Store, n: int, gate: threading.Barrier) -> None:
    """What a run does with its config before it crawls: records the target URLs it checked,
    then mirrors the boards and subscribers into the store."""
    targets = [ledger.TargetSpec(f"hash-{n}-{t}", f"mailto://{n}-{t}", f"id-{n}-{t}") for t in "ab"]
    gate.wait()
    with store.write() as session:
        ledger.remember_urls(session, [target.url_hash for target in targets], T0)
    with store.write() as session:
        posts.sync_boards(session, {f"board-{n}": f"게시판 {n}", "esg": "ESG 정책뉴스"})
        ledger.sync_subscribers(session, [ledger.SubscriberSpec(f"team-{n}", targets)], T0)


def test_runs_starting_together_store_each_new_row_once(store: Store) -> None:
    for n in range(20):  # each round new names: a new store, as far as the race goes
        gate = threading.Barrier(RUNS)
        with ThreadPoolExecutor(RUNS) as pool:
            done = [pool.submit(start_up, store, n, gate) for _ in range(RUNS)]
            for run in done:
                run.result()
    with store.read() as session:
        for model, rows in ((Board, 21), (Subscriber, 20), (Target, 40), (KnownUrl, 40)):
            assert session.scalar(select(func.count()).select_from(model)) == rows
