"""Whose turn it is: a board is crawled once per interval whoever crawls it, runs take sites (not
boards), and a site one run holds is no one else's until it is given back — and its delay has
passed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from storage import Store, claims, posts
from storage.locks import now
from storage.models import Lock

EVERY_MINUTE = timedelta(minutes=1)
A, B = "http://a.example", "http://b.example"


def plans(**boards: str) -> dict[str, claims.Plan]:
    return {name: claims.Plan(site, lambda at: at + EVERY_MINUTE) for name, site in boards.items()}


@pytest.fixture
def boards(store: Store) -> dict[str, claims.Plan]:
    with store.write() as session:
        posts.sync_boards(session, {n: n for n in ("a1", "a2", "b1")})
    return plans(a1=A, a2=A, b1=B)


def crawled(store: Store, taken: claims.Claim) -> None:
    """What a run does when its crawl ends: record when it began, give the sites back."""
    with store.write() as session:
        claims.crawled(session, dict.fromkeys(taken.boards, taken.at))
    claims.release(store, taken.owner)


def test_a_board_never_crawled_is_due_and_its_site_is_taken_whole(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    first = claims.claim(store, boards, "w1", 60)
    assert sorted(first.boards) == ["a1", "a2", "b1"] and first.sites == (A, B)
    second = claims.claim(store, boards, "w2", 60)
    assert second.boards == () and second.sites == ()
    assert second.waiting == {"a1": "w1", "a2": "w1", "b1": "w1"}


def test_a_board_crawled_is_no_ones_again_until_its_interval_has_passed(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    crawled(store, claims.claim(store, boards, "w1", 60))
    later = claims.claim(store, boards, "w2", 60)
    assert later.boards == () and later.sites == () and not later.waiting
    assert later.next_due is not None
    assert timedelta(seconds=55) < later.next_due - later.at <= EVERY_MINUTE
    with store.write() as session:  # a minute on, by the database's clock
        claims.crawled(session, {"a1": now(session) - EVERY_MINUTE})
    due = claims.claim(store, boards, "w2", 60)
    assert due.boards == ("a1",) and due.sites == (A,)


def lane(name: str) -> claims.Lane:
    return claims.Lane(name, present_for=60)


def test_each_lane_takes_its_share_of_the_sites_over_the_lanes_present(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    alone = claims.claim(store, boards, "w1", 60, lane=lane("w1"))
    assert alone.sites == (A, B)  # the only lane: every site
    claims.release(store, "w1")
    claims.claim(store, {}, "w2", 60, lane=lane("w2"))  # a second worker's lane appears
    first = claims.claim(store, boards, "w1", 60, lane=lane("w1"))
    second = claims.claim(store, boards, "w2", 60, lane=lane("w2"))
    assert len(first.sites) == len(second.sites) == 1 and first.sites != second.sites
    assert sorted(first.boards + second.boards) == ["a1", "a2", "b1"]
    claims.release(store, "w1")
    claims.leave(store, lane("w2"))  # the second worker stopped: its share is the first's
    assert claims.claim(store, boards, "w1", 60, lane=lane("w1")).sites == (A,)


def test_a_crawl_that_never_recorded_leaves_its_boards_due_for_the_next_holder(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    dead = claims.claim(store, boards, "w1", 0.001)  # its lease runs out at once: it died
    assert dead.boards
    taken = claims.claim(store, boards, "w2", 60)
    assert sorted(taken.boards) == ["a1", "a2", "b1"]


def test_a_site_given_back_stays_closed_for_the_sites_delay(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    first = claims.claim(store, boards, "w1", 60, due_only=False)
    with store.write() as session:
        claims.crawled(session, dict.fromkeys(first.boards, first.at))
    claims.release(store, "w1", linger=30)
    again = claims.claim(store, boards, "w2", 60, due_only=False)  # `scrape once`: all boards
    assert again.sites == () and set(again.waiting) == {"a1", "a2", "b1"}
    with store.write() as session:  # the delay is over
        session.execute(update(Lock).values(expires_at=now(session) - timedelta(seconds=1)))
    later = claims.claim(store, boards, "w2", 60, due_only=False)
    assert sorted(later.boards) == ["a1", "a2", "b1"]


def test_boards_due_by_another_plan_follow_the_config_not_the_last_interval(
    store: Store, boards: dict[str, claims.Plan]
) -> None:
    """An interval shortened in the config counts from the last crawl at once."""
    crawled(store, claims.claim(store, boards, "w1", 60))
    hourly = {n: claims.Plan(p.site, lambda at: at + timedelta(hours=1)) for n, p in boards.items()}
    assert claims.claim(store, hourly, "w2", 60).boards == ()
    instant = {n: claims.Plan(p.site, lambda at: at) for n, p in boards.items()}
    assert sorted(claims.claim(store, instant, "w2", 60).boards) == ["a1", "a2", "b1"]


def test_a_due_time_in_the_past_or_none_is_due(store: Store) -> None:
    with store.write() as session:
        posts.sync_boards(session, {"x": "x"})
    never = {"x": claims.Plan(A, lambda at: datetime.max.replace(tzinfo=at.tzinfo))}
    assert claims.claim(store, never, "w", 60).boards == ("x",)  # never crawled: due now


def test_a_board_falling_due_within_twice_its_slack_is_claimed_to_start_its_slack_early(
    store: Store,
) -> None:
    """Boards a crawl fetched one after another fall due one after another: a claim takes with
    the boards due (or due within their slack: at once) those due within twice their slack, each
    to be crawled no sooner than its slack before it is due; a board due later is not taken."""
    names = ("due", "within", "twice", "beyond")
    with store.write() as session:
        posts.sync_boards(session, {n: n for n in names})
        at = now(session)
        ahead = {"due": 0, "within": 8, "twice": 15, "beyond": 25}  # seconds until it is due
        claims.crawled(
            session, {n: at - EVERY_MINUTE + timedelta(seconds=s) for n, s in ahead.items()}
        )
    slack = 10.0
    boards = {
        n: claims.Plan(A if n != "beyond" else B, lambda at: at + EVERY_MINUTE, slack)
        for n in names
    }
    taken = claims.claim(store, boards, "w1", 60)
    assert sorted(taken.boards) == ["due", "twice", "within"]
    assert set(taken.starts) == {"twice"}  # the others may be crawled at once
    with store.read() as session:
        crawled_at = claims.crawled_at(session, ["twice"])["twice"]
    assert crawled_at is not None
    assert taken.starts["twice"] == crawled_at + EVERY_MINUTE - timedelta(seconds=slack)
    assert taken.next_due is not None
    assert timedelta(seconds=20) < taken.next_due - taken.at <= timedelta(seconds=25)


def test_no_board_is_taken_early_without_one_due_nor_by_one_of_another_interval(
    store: Store,
) -> None:
    """A lane waking before any board is due takes none early (each stays on its own interval),
    and a board due takes early only boards of its own cadence — never longer than the shortest
    slack of all boards, so a crawl that waits holds back no board beyond its own slack."""
    names = ("soon", "hourly")
    with store.write() as session:
        posts.sync_boards(session, {n: n for n in names})
        at = now(session)
        claims.crawled(session, {"soon": at - EVERY_MINUTE + timedelta(seconds=15)})
    boards = {
        "soon": claims.Plan(A, lambda at: at + EVERY_MINUTE, 10.0),
        "hourly": claims.Plan(B, lambda at: at + timedelta(hours=1), 180.0),
    }
    with store.write() as session:  # the hourly board falls due in 100 s: within its slack
        claims.crawled(session, {"hourly": now(session) - timedelta(seconds=3500)})
    idle = claims.claim(store, boards, "w1", 60)
    assert idle.boards == ("hourly",) and not idle.starts  # due within its slack: at once
    claims.release(store, "w1")
    with store.write() as session:  # now it falls due in 185 s: beyond its slack
        claims.crawled(session, {"hourly": now(session) - timedelta(seconds=3415)})
    early = claims.claim(store, boards, "w1", 60)
    assert early.boards == () and early.sites == ()  # "soon" is due in 15 s: none taken early
    assert early.next_due is not None
    assert timedelta(seconds=10) < early.next_due - early.at <= timedelta(seconds=15)
    with store.write() as session:  # "soon" is due now; "hourly" in 185 s, of another cadence
        claims.crawled(session, {"soon": now(session) - EVERY_MINUTE})
    taken = claims.claim(store, boards, "w1", 60)
    assert taken.boards == ("soon",) and not taken.starts


def test_a_lane_whose_crawl_just_ended_takes_the_next_boards_of_its_cadence_along(
    store: Store,
) -> None:
    """Right after a crawl of boards every minute (slack 10 s), the lane's claim takes a board
    of that cadence due in 15 s along — to be asked for 10 s before it is due — while a lane
    that merely wakes does not."""
    with store.write() as session:
        posts.sync_boards(session, {"next": "next"})
        claims.crawled(session, {"next": now(session) - EVERY_MINUTE + timedelta(seconds=15)})
    boards = {"next": claims.Plan(A, lambda at: at + EVERY_MINUTE, 10.0)}
    assert claims.claim(store, boards, "w1", 60).boards == ()
    pulled = claims.claim(store, boards, "w1", 60, along={10.0})
    assert pulled.boards == ("next",) and set(pulled.starts) == {"next"}
    assert timedelta(seconds=0) < pulled.starts["next"] - pulled.at <= timedelta(seconds=5)
    claims.release(store, "w1")
    assert claims.claim(store, boards, "w2", 60, along={30.0}).boards == ()  # another cadence
