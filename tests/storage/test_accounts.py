"""Who takes on whose debts when a subscriber's targets change (`storage.accounts`): a table of
cases, then the same policy through the store — the sync, and the view read-only commands show
of it without writing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from records.post import ReadPost
from storage import Store, ledger, posts
from storage.accounts import Account, inheritance

T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)


def mail(url_hash: str, identity: str | None = None) -> Account:
    return Account(url_hash, "mailto", identity)


def slack(url_hash: str, identity: str | None = None) -> Account:
    return Account(url_hash, "slack", identity)


# (the active targets the subscriber had, the targets now wanted, whom each joining one inherits)
CASES = {
    "nothing changed": ([mail("a", "A")], [mail("a", "A")], {}),
    "a secret fixed": (
        [mail("a", "A"), slack("s", "S")],
        [mail("a2", "A"), slack("s", "S")],
        {"a2": ["a"]},
    ),
    "a port fixed (identity differs), alone of its kind": (
        [mail("a", "A"), slack("s", "S")],
        [mail("a2", "A:2526"), slack("s", "S")],
        {"a2": ["a"]},
    ),
    "a shared secret rotated: each its own": (
        [mail("a", "A"), mail("b", "B")],
        [mail("a2", "A"), mail("b2", "B")],
        {"a2": ["a"], "b2": ["b"]},
    ),
    "a shared secret rotated and one port fixed": (
        [mail("a", "A"), mail("b", "B")],
        [mail("a2", "A"), mail("b2", "B:2526")],
        {"a2": ["a"], "b2": ["b"]},
    ),
    "a shared secret rotated and both addresses changed: no match, what is still owed": (
        [mail("a", "A"), mail("b", "B")],
        [mail("a2", "A:x"), mail("b2", "B:x")],
        {"a2": ["a", "b"], "b2": ["a", "b"]},
    ),
    "two that left share an identity: the kind decides, else what is still owed": (
        [mail("a", "A"), mail("b", "A")],
        [mail("a2", "A")],
        {"a2": ["a", "b"]},
    ),
    "one left, two of its identity came: neither is its one successor": (
        [mail("a", "A"), slack("s", "S")],
        [mail("a2", "A"), mail("a3", "A"), slack("s", "S")],
        {"a2": ["a", "s"], "a3": ["a", "s"]},
    ),
    "identities unknown (stored before 0008): the kind decides": (
        [mail("a"), slack("s")],
        [mail("a2", "A"), slack("s")],
        {"a2": ["a"]},
    ),
    "a target added: what is still owed": (
        [mail("a", "A")],
        [mail("a", "A"), slack("s", "S")],
        {"s": ["a"]},
    ),
    "a target removed: no one joins": ([mail("a", "A"), slack("s", "S")], [slack("s", "S")], {}),
    "a target swapped for another kind: what is still owed": (
        [mail("a", "A"), slack("s", "S")],
        [slack("s", "S"), Account("j", "json", "J")],
        {"j": ["a", "s"]},
    ),
    "a subscriber with no active targets (new, or back after removal)": (
        [],
        [mail("a", "A")],
        {"a": []},
    ),
    "a URL listed twice is one target": ([], [mail("a", "A"), mail("a", "A")], {"a": []}),
}


@pytest.mark.parametrize(("had", "wanted", "expected"), CASES.values(), ids=CASES.keys())
def test_inheritance(
    had: list[Account], wanted: list[Account], expected: dict[str, list[str]]
) -> None:
    assert {k: sorted(v) for k, v in inheritance(had, wanted).items()} == expected


def row(key: int) -> ReadPost:
    return ReadPost(
        key=str(key),
        number=str(key),
        title=f"post {key}",
        url=f"http://b/{key}",
        author="a",
        date=date(2025, 7, 23),
        views=1,
        new_marker=False,
        notice=False,
    )


def team(*targets: tuple[str, str]) -> list[ledger.SubscriberSpec]:
    specs = [ledger.TargetSpec(h, f"mailto://{h}", identity) for h, identity in targets]
    return [ledger.SubscriberSpec("team", specs)]


def owed(store: Store) -> dict[str, set[int]]:
    with store.read() as s:
        return {b.url_hash: {e["id"] for e in b.entries} for b in ledger.pending(s)}


def test_a_rotated_shared_secret_gives_each_target_only_its_own_debts(store: Store) -> None:
    with store.write() as s:
        posts.sync_boards(s, {"esg": "ESG"})
        ledger.sync_subscribers(s, team(("a", "A"), ("b", "B")), T0)
        posts.ingest(s, "esg", [row(1)], complete=True, backfill=0, now=T0)
        posts.ingest(
            s,
            "esg",
            [row(3), row(2), row(1)],
            complete=True,
            backfill=0,
            now=T0 + timedelta(minutes=1),
        )
    with store.write() as s:  # target a accepted both posts; b accepted none
        (batch,) = [b for b in ledger.pending(s) if b.url_hash == "a"]
        ledger.mark(s, batch, None, T0)
    assert owed(store) == {"b": {2, 3}}
    rotated = team(("a2", "A"), ("b2", "B"))
    with store.read() as s:  # what read-only commands show, without writing
        assert {k: len(v) for k, v in ledger.owed(s, rotated).items()} == {"team": 2}
        assert set(ledger.owed_entries(s, rotated)) == {"team"}
    with store.write() as s:
        ledger.sync_subscribers(s, rotated, T0)
    assert owed(store) == {"b2": {2, 3}}  # a2 accepted them as a: never again


@pytest.mark.parametrize(
    "wanted",
    [
        [("a", "A"), ("b", "B")],
        [("a2", "A"), ("b2", "B")],
        [("a2", "A"), ("b2", "B:2")],
        [("a2", "A:x"), ("b2", "B:x")],
        [("b", "B")],
        [("a", "A"), ("b", "B"), ("c", "C")],
        [],
    ],
)
def test_what_read_only_commands_show_is_what_the_sync_then_leaves(
    store: Store, wanted: list[tuple[str, str]]
) -> None:
    with store.write() as s:
        posts.sync_boards(s, {"esg": "ESG"})
        ledger.sync_subscribers(s, team(("a", "A"), ("b", "B")), T0)
        posts.ingest(s, "esg", [row(1)], complete=True, backfill=0, now=T0)
        posts.ingest(
            s,
            "esg",
            [row(3), row(2), row(1)],
            complete=True,
            backfill=0,
            now=T0 + timedelta(minutes=1),
        )
    with store.write() as s:
        (batch,) = [b for b in ledger.pending(s) if b.url_hash == "a"]
        ledger.mark(s, batch, None, T0)
    with store.read() as s:
        shown = ledger.owed(s, team(*wanted))["team"]
    with store.write() as s:
        ledger.sync_subscribers(s, team(*wanted), T0)
    with store.read() as s:
        left = {(e["id"], 0) for b in ledger.pending(s) for e in b.entries}
    post_ids = {e for e, _ in shown}
    assert shown == left and post_ids <= {2, 3}


def _statements_to_sync(store: Store, count: int, day: int) -> int:
    """The statements one sync of `count` subscribers (two targets each) sends to the store."""
    from sqlalchemy import event

    specs = [
        ledger.SubscriberSpec(
            f"s{i}",
            [
                ledger.TargetSpec(f"m{i}", "mailto://…", f"M{i}"),
                ledger.TargetSpec(f"k{i}", "slack://…", f"K{i}"),
            ],
        )
        for i in range(count)
    ]
    sent: list[str] = []

    def seen(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.write() as s:
            ledger.sync_subscribers(s, specs, T0 + timedelta(days=day))
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    return len(sent)


def test_a_sync_costs_the_same_statements_for_one_subscriber_or_five_hundred(store: Store) -> None:
    """Every command starts with the sync: its cost must not grow with the config (10,000
    subscribers took 20,000 round trips, and on PostgreSQL more than 65,535 parameters). 501 new
    subscribers have 1,002 targets: inserted in two statements of at most 1,000 rows."""
    first_one = _statements_to_sync(store, 1, 0)
    steady_one = _statements_to_sync(store, 1, 1)
    first_many = _statements_to_sync(store, 502, 2)  # 501 new: 1,002 new targets
    steady_many = _statements_to_sync(store, 502, 3)
    assert steady_many == steady_one, (steady_one, steady_many)
    assert first_many == first_one + 1, (first_one, first_many)  # the second batch of targets
    with store.read() as s:
        assert len(ledger.known_targets(s)) == 1004
