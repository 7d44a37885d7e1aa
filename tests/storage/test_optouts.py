"""Opt-outs in the ledger, on every backend: a target that left is owed nothing — what it was
owed is dropped, nothing new is queued for it, an edited secret keeps it out — it is recorded
once however often its link is posted, and `resume` lets what comes next reach it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from records.post import ReadPost
from storage import Store, ledger, optouts, posts, runs
from storage.models import Post

T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)
A = ledger.TargetSpec("hash-a", "mailto://…/a@example.com", "identity-a")
A_ROTATED = ledger.TargetSpec("hash-a2", "mailto://…/a@example.com", "identity-a")
B = ledger.TargetSpec("hash-b", "mailto://…/b@example.com", "identity-b")


def row(key: str) -> ReadPost:
    return ReadPost(
        key=key,
        number=key,
        title=f"글 {key}",
        url=f"http://b/view?no={key}",
        author=None,
        date=date(2025, 7, 23),
        views=None,
        new_marker=False,
        notice=False,
    )


def publish(store: Store, key: str, minute: int) -> None:
    with store.write() as s:
        posts.ingest(
            s, "esg", [row(key)], complete=True, backfill=0, now=T0 + timedelta(minutes=minute)
        )


def setup(store: Store, *targets: ledger.TargetSpec) -> None:
    with store.write() as s:
        posts.sync_boards(s, {"esg": "ESG"})
        ledger.sync_subscribers(s, [ledger.SubscriberSpec("team", list(targets))], T0)


def owed(store: Store) -> dict[str, list[str]]:
    with store.read() as s:
        return {b.url_hash: sorted(e["key"] for e in b.entries) for b in ledger.pending(s)}


def leave(store: Store, identity: str) -> bool:
    with store.write() as s:
        (target,) = [t for t in optouts.reachable(s) if t.identity == identity]
        return optouts.leave(s, target, T0 + timedelta(hours=1))


def test_a_target_that_left_is_owed_nothing_and_is_recorded_once(store: Store) -> None:
    setup(store, A, B)
    publish(store, "0", 0)  # the baseline
    publish(store, "1", 1)
    assert owed(store) == {"hash-a": ["1"], "hash-b": ["1"]}
    assert leave(store, "identity-a") and not leave(store, "identity-a")
    assert owed(store) == {"hash-b": ["1"]}
    publish(store, "2", 2)
    assert owed(store) == {"hash-b": ["1", "2"]}
    with store.read() as s:
        assert ledger.pending_counts(s) == {"team": 2}
        (team,) = runs.status(s)["subscribers"]
    assert team["pending"] == 2 and [x["target"] for x in team["unsubscribed"]] == [A.masked]


def test_an_edited_secret_keeps_it_out_and_resume_lets_the_next_posts_reach_it(
    store: Store,
) -> None:
    setup(store, A, B)
    publish(store, "0", 0)
    leave(store, "identity-a")
    publish(store, "1", 1)
    setup(store, A_ROTATED, B)  # a's password rotated: a joining target with its identity …
    assert owed(store) == {"hash-b": ["1"]}  # … inherits nothing, as it is still out
    with store.read() as s:  # and read-only commands, working out the same, agree
        (post,) = s.scalars(select(Post.id).where(Post.key == "1"))
        wanted = [ledger.SubscriberSpec("team", [A_ROTATED, B])]
        assert ledger.owed(s, wanted) == {"team": {(post, 0)}}
    with store.write() as s:
        assert [x.identity for x in optouts.resume(s, "team")] == ["identity-a"]
        assert optouts.resume(s, "team") == []
    publish(store, "2", 2)
    assert owed(store) == {"hash-a2": ["2"], "hash-b": ["1", "2"]}
