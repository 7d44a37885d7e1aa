"""Whose turn it is: which run crawls which boards, so that workers share boards and sites.

A board is due an interval after its own list page last answered (`boards.crawled_at`, by the
database's clock, whoever crawled it), and may be crawled up to its slack sooner (`Plan.slack`).
A run does not take boards, it takes their *sites*: holding the lease `site:<scheme://host>`
keeps every other run off that site for the crawl, so a site's concurrency (held in each crawl by
its per-site limit) and delay hold across all workers together. When a lease is given back, it
lingers for the site's delay, so the next holder's first request never follows the last one
sooner than that.

`claim` is one transaction: read which boards are due, take free leases of their sites, and read
again which of those sites' boards are still due (another run may have crawled them and let go of
the site between the two reads); only those are this run's. A run writes `crawled_at` when its
crawl ends — before it lets go of the site — and not at all when it was interrupted, so a board
whose crawl died is due again at once (once its lease is free).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from storage import dialect
from storage.db import Store
from storage.locks import gone, now
from storage.models import Board, Lock

SITE = "site:"


def lease_name(site: str) -> str:
    return f"{SITE}{site}"


@dataclass(frozen=True)
class Plan:
    """One board as a claim sees it: its site, and when it falls due after a crawl that began at
    a given moment (an interval later, or a cron expression's next time)."""

    site: str
    due_after: Callable[[datetime], datetime]
    # seconds it may be crawled before it falls due, so that boards falling due close together
    # walk in one crawl: with a board due, a claim takes the boards of the same slack due within
    # it and the shortest slack of all boards, and a board not yet due within its own is asked
    # for no sooner than this before it falls due (`Claim.starts`; see `claim`)
    slack: float = 0.0


@dataclass(frozen=True)
class Claim:
    owner: str
    at: datetime  # the database's clock when the claim was taken: the boards' `crawled_at`
    sites: tuple[str, ...]  # held by `owner`
    boards: tuple[str, ...]  # this run's to crawl
    waiting: dict[str, str]  # boards wanted whose site another run holds -> its holder
    next_due: datetime | None  # the earliest a board not claimed falls due (None: no board)
    clock: float = 0.0  # this process's monotonic clock when `at` was read
    # boards claimed before they may be crawled -> when they may (their due time less their
    # slack); the others may be crawled at once
    starts: Mapping[str, datetime] = field(default_factory=dict)

    def when(self, moment: float | None) -> datetime:
        """A moment of this process's monotonic clock, on the database's clock (`at` then)."""
        return self.at if moment is None else self.at + timedelta(seconds=moment - self.clock)


LANE = "lane:"  # a daemon lane that claims in turn, present while its row has not expired


@dataclass(frozen=True)
class Lane:
    """A daemon's lane, claiming again and again: it takes its share of the sites with due
    boards — as many as there are such sites over the lanes present (those of every worker),
    at most `most` — so that workers started at any time split the boards."""

    name: str  # the lane's own id (its presence row: `lane:<name>`)
    present_for: float  # seconds its presence outlives its last claim (more than its longest sleep)
    most: int = 16


def claim(
    store: Store,
    plans: Mapping[str, Plan],
    owner: str,
    ttl: float,
    *,
    lane: Lane | None = None,
    due_only: bool = True,
    along: Collection[float] = (),
) -> Claim:
    """Take sites for `owner`: those of the boards due (within their slack; all of `plans` when
    not `due_only`) whose lease is free, expired or held by a process of this host that has
    ended — every such site, or a `lane`'s share of them, the longest due first.

    With a board due, a claim also takes the boards of its cadence (the same slack) that may be
    crawled within a little more — the shortest slack of all boards, so no board waits longer
    than its own slack for a crawl that waits: each is asked for no sooner than its slack before
    it falls due (`Claim.starts`). So do the claims of a lane whose crawl just ended, for the
    cadences it crawled (`along`): the next group of them joins it. So the boards a crawl fetched
    one after another, each due an interval after its own page answered, walk together again,
    and a group of them that fell behind another (a long first crawl) draws nearer it each
    interval; no board is crawled more than its slack before it is due, and none is taken early
    but along with a board due or a crawl just ended — a lane that merely wakes takes none."""
    hold = min((plan.slack for plan in plans.values()), default=0.0)

    def ready(name: str, due: datetime) -> bool:
        return not due_only or due <= at + timedelta(seconds=plans[name].slack)

    def near(name: str, due: datetime) -> bool:
        return due <= at + timedelta(seconds=plans[name].slack + hold)

    with store.write() as session:
        at, clock = now(session), time.monotonic()
        lanes = _present(session, lane, at) if lane else 1
        crawled = crawled_at(session, plans)
        dues = {name: _due(plan, crawled.get(name)) for name, plan in plans.items()}
        close = {name: due for name, due in dues.items() if ready(name, due) or near(name, due)}
        holders = _holders(session, {plans[name].site for name in close}, at)
        cadences = {  # of the boards due whose site is free: others of theirs may come along
            plans[name].slack
            for name, due in close.items()
            if ready(name, due) and plans[name].site not in holders
        } | set(along)
        wanted = {
            name: due
            for name, due in close.items()
            if ready(name, due) or plans[name].slack in cadences
        }
        sites: dict[str, tuple[bool, datetime]] = {}  # site -> (no board due, earliest due)
        for name, due in wanted.items():
            site, key = plans[name].site, (not ready(name, due), due)
            sites[site] = min(key, sites.get(site, key))
        free = sorted((s for s in sites if s not in holders), key=lambda s: (sites[s], s))
        if not along and all(sites[s][0] for s in free):
            free = []  # none taken early without one due (or a crawl just ended)
        share = len(free) if lane is None else min(lane.most, -(-len(sites) // lanes))
        chosen = sorted(free[:share])  # in one order: no two takers deadlock
        held = _take(session, chosen, owner, at, at + timedelta(seconds=ttl))
        again = crawled_at(session, {n: plans[n] for n in wanted if plans[n].site in held})
        fresh = {n: _due(plans[n], again.get(n)) for n in wanted if plans[n].site in held}
        mine = tuple(
            name
            for name in wanted
            if name in fresh and (ready(name, fresh[name]) or near(name, fresh[name]))
        )
        starts = {
            name: fresh[name] - timedelta(seconds=plans[name].slack)
            for name in mine
            if not ready(name, fresh[name])
        }
        idle = held - {plans[name].site for name in mine}
        if idle:  # crawled by another run between the two reads: nothing left to do there
            session.execute(delete(Lock).where(Lock.name.in_([lease_name(s) for s in idle])))
        others = [n for n in plans if n not in mine and plans[n].site not in holders]
        later = [dues[n] for n in others if n not in wanted or not ready(n, dues[n])]
        return Claim(
            owner=owner,
            at=at,
            sites=tuple(sorted(held - idle)),
            boards=mine,
            waiting={
                n: holders[plans[n].site]
                for n, due in wanted.items()
                if n not in mine and plans[n].site in holders and ready(n, due)
            },
            next_due=min(later, default=None),
            clock=clock,
            starts=starts,
        )


def leave(store: Store, lane: Lane) -> None:
    """A lane that stops claims no more: its share goes to the others at once."""
    with store.write() as session:
        session.execute(delete(Lock).where(Lock.name == f"{LANE}{lane.name}"))


def _present(session: Session, lane: Lane, at: datetime) -> int:
    """Say that `lane` is present (until `present_for` from now); how many lanes are."""
    until = at + timedelta(seconds=lane.present_for)
    name = f"{LANE}{lane.name}"
    row = {"name": name, "owner": "lane", "acquired_at": at, "expires_at": until}
    session.execute(
        dialect.insert_or_update(session, Lock, row, key="name", update={"expires_at": until})
    )
    query = select(func.count()).where(Lock.name.like(f"{LANE}%"), Lock.expires_at >= at)
    return max(1, session.scalar(query) or 1)


def crawled(session: Session, moments: Mapping[str, datetime]) -> None:
    """Each board was crawled at its moment (the database's clock when its own list page was
    fetched): it is due an interval after that — not after its crawl batch began, which on a
    long crawl would bring a board fetched at its end round again too soon."""
    if moments:
        rows = [{"board": board, "at": at} for board, at in moments.items()]
        session.connection().execute(_CRAWLED, rows)  # one statement, many rows (Core)


_BOARDS = cast(Table, Board.__table__)
_CRAWLED = (
    update(_BOARDS)
    .where(_BOARDS.c.name == bindparam("board"))
    .values(crawled_at=bindparam("at", type_=_BOARDS.c.crawled_at.type))
)


def release(store: Store, owner: str, linger: float = 0.0) -> None:
    """Give back `owner`'s site leases; each stays closed `linger` seconds more (the site's
    delay), so no run's request follows this run's last one sooner."""
    with store.write() as session:
        if linger <= 0:
            session.execute(delete(Lock).where(Lock.owner == owner))
            return
        until = now(session) + timedelta(seconds=linger)
        session.execute(
            update(Lock).where(Lock.owner == owner).values(owner="lingering", expires_at=until)
        )


def _due(plan: Plan, crawled_at: datetime | None) -> datetime:
    return datetime.min.replace(tzinfo=UTC) if crawled_at is None else plan.due_after(crawled_at)


def crawled_at(session: Session, plans: Collection[str]) -> dict[str, datetime | None]:
    """When each of these boards was last crawled (None: never), by the database's clock."""
    if not plans:
        return {}
    query = select(Board.name, Board.crawled_at).where(Board.name.in_(list(plans)))
    return {name: at for name, at in session.execute(query)}


def _holders(session: Session, sites: Collection[str], at: datetime) -> dict[str, str]:
    """The sites whose lease another run holds now (not expired, its holder not gone)."""
    if not sites:
        return {}
    names = [lease_name(s) for s in sites]
    rows = session.execute(
        select(Lock.name, Lock.owner).where(Lock.name.in_(names), Lock.expires_at >= at)
    )
    return {name.removeprefix(SITE): holder for name, holder in rows if not gone(holder)}


def _take(
    session: Session,
    sites: Sequence[str],
    owner: str,
    at: datetime,
    expires: datetime,
) -> set[str]:
    if not sites:
        return set()
    names = [lease_name(s) for s in sites]
    rows = [{"name": n, "owner": owner, "acquired_at": at, "expires_at": expires} for n in names]
    session.execute(dialect.insert_or_skip(session, Lock, rows))
    for name, holder, until in session.execute(
        select(Lock.name, Lock.owner, Lock.expires_at).where(Lock.name.in_(names))
    ).all():
        if holder != owner and (until < at or gone(holder)):
            session.execute(
                update(Lock)
                .where(Lock.name == name, Lock.owner == holder)
                .values(owner=owner, acquired_at=at, expires_at=expires)
            )
    held = session.scalars(select(Lock.name).where(Lock.name.in_(names), Lock.owner == owner))
    return {name.removeprefix(SITE) for name in held}
