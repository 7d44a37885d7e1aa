"""The delivery ledger: one entry per (target, post, revision), delivered only once accepted."""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from records.post import POST_FIELDS, Entry, Retitled, StoredPost
from storage import accounts, dialect, health, optouts
from storage.db import Store, insert_missing
from storage.models import (
    Board,
    Delivery,
    KnownUrl,
    Post,
    Revision,
    Subscriber,
    Target,
    post_dict,
)


class TargetSpec(NamedTuple):
    """A configured target: its URL's hash, masked form and identity (what the URL names apart
    from its secrets, hashed: `notify.masking.identity`) — never the URL."""

    url_hash: str
    masked: str
    identity: str | None = None


@dataclass(frozen=True)
class SubscriberSpec:
    """Routing data for one configured subscriber."""

    name: str
    targets: Sequence[TargetSpec]
    boards: Sequence[str] | None = None
    keywords: Sequence[str] = ()
    exclude_keywords: Sequence[str] = ()
    include_updates: bool = False
    digest: str = "immediate"


@dataclass
class Batch:
    """A target's pending entries: everything one digest message to it must carry."""

    subscriber: str
    target_id: int
    url_hash: str
    masked: str
    failures: int = 0  # the target's consecutive failed sends
    last_failure_at: datetime | None = None
    identity: str | None = None  # what its URL names apart from its secrets (hashed)
    alerting: bool = False  # an alert said the target is failing, and no recovery since
    entries: list[Entry] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [entry["entry_id"] for entry in self.entries]


@dataclass(frozen=True)
class SubscriberState:
    """What the due policy needs to know of a subscriber's past digests."""

    first_seen: datetime
    last_digest_at: datetime | None


LEDGER_LOCK = 0x62775F6C64  # pg_advisory_xact_lock key: syncing targets vs. queueing ("bw_ld")


def _ledger_lock(session: Session, *, shared: bool) -> None:
    """On PostgreSQL, a sync of the targets (exclusive) and the queueing of entries (shared)
    keep out of each other's way: an entry queued for a target that an edit retires while the
    sync runs would otherwise be owed by no current target."""
    dialect.advisory_lock(session, LEDGER_LOCK, shared=shared)


def sync_subscribers(session: Session, specs: Sequence[SubscriberSpec], now: datetime) -> None:
    """Make the stored subscribers and targets match the configuration. A subscriber removed
    from it is kept inactive, and so are its targets: it owes nothing.

    A constant number of statements whatever the number of subscribers (every command starts
    with this): the subscribers and their targets are read once each, what is missing is
    inserted in batches, what changed is written in one flush; only a subscriber whose target
    was edited costs statements of its own (what the new target inherits)."""
    _ledger_lock(session, shared=False)
    stored = set(session.scalars(select(Subscriber.name)))
    new = {"first_seen": now, "keywords": [], "exclude_keywords": []}
    rows = [{"name": spec.name, **new} for spec in specs if spec.name not in stored]
    insert_missing(session, Subscriber, rows)
    known = {s.name: s for s in session.scalars(select(Subscriber))}
    targets: defaultdict[int, dict[str, Target]] = defaultdict(dict)  # subscriber → its targets
    for target in session.scalars(select(Target)):
        targets[target.subscriber_id][target.url_hash] = target
    for sub in known.values():
        sub.active = False
    added: list[dict[str, object]] = []
    joining: list[tuple[int, dict[str, list[str]], dict[str, int]]] = []
    for spec in specs:
        sub = known[spec.name]
        sub.active = True
        sub.boards = list(spec.boards) if spec.boards is not None else None
        sub.keywords = list(spec.keywords)
        sub.exclude_keywords = list(spec.exclude_keywords)
        sub.include_updates = spec.include_updates
        sub.digest = spec.digest
        mine = targets[sub.id]
        sources = accounts.inheritance(_accounts(mine.values()), _wanted_accounts(spec.targets))
        # a new target that inherits nothing has nothing to do; one stored before (it rejoins)
        # drops what it was owed when it left, and one that replaces another takes its debts
        sources = {h: had for h, had in sources.items() if had or h in mine}
        if sources:
            joining.append((sub.id, sources, {h: t.id for h, t in mine.items()}))
        added += _sync_targets(sub.id, mine, spec.targets)
    gone = [sub.id for sub in known.values() if not sub.active]
    session.flush()
    if gone:
        session.execute(
            update(Target).where(Target.subscriber_id.in_(gone)).values(active=False),
            execution_options={"synchronize_session": False},
        )
    insert_missing(session, Target, added)
    for subscriber_id, sources, ids in joining:
        _join(session, subscriber_id, sources, ids)


def _sync_targets(
    subscriber_id: int, stored: Mapping[str, Target], targets: Sequence[TargetSpec]
) -> list[dict[str, object]]:
    """Make one subscriber's stored targets the configured ones (in the session; flushed by the
    caller) and return the rows of the targets to add. A target that leaves owes nothing."""
    wanted = {spec.url_hash: spec for spec in targets}
    for target in stored.values():
        spec = wanted.get(target.url_hash)
        target.active = spec is not None
        if spec is not None:
            target.masked, target.identity = spec.masked, spec.identity or target.identity
    return [
        {**spec._asdict(), "subscriber_id": subscriber_id}
        for url_hash, spec in wanted.items()
        if url_hash not in stored
    ]


def _join(
    session: Session, subscriber_id: int, sources: Mapping[str, list[str]], ids: Mapping[str, int]
) -> None:
    """A target that joins takes on what the ones it replaces had not accepted
    (`storage.accounts`), unless its subscriber unsubscribed it. So a fixed secret or port never
    drops an entry, and a new target gets no history."""
    joined = select(Target).where(
        Target.subscriber_id == subscriber_id, Target.url_hash.in_(sources)
    )
    out = optouts.identities(session, subscriber_id)
    for target in session.scalars(joined):
        inherits = [] if target.identity in out else [ids[h] for h in sources[target.url_hash]]
        _inherit(session, inherits, target.id)


def _accounts(targets: Iterable[Target]) -> list[accounts.Account]:
    """The subscriber's active targets, as the policy sees them."""
    return [
        accounts.Account(t.url_hash, accounts.kind(t.masked), t.identity)
        for t in targets
        if t.active
    ]


def _wanted_accounts(targets: Sequence[TargetSpec]) -> list[accounts.Account]:
    return [accounts.Account(t.url_hash, accounts.kind(t.masked), t.identity) for t in targets]


def _inherit(session: Session, sources: Sequence[int], joined: int) -> None:
    """Give a joining target the entries its sources still owe (with their tries, so a failed
    entry is still retried at once), and nothing older."""
    stale = delete(Delivery).where(Delivery.target_id == joined, Delivery.delivered_at.is_(None))
    session.execute(stale, execution_options={"synchronize_session": False})
    if not sources:
        return
    owed = (
        select(
            Delivery.post_id,
            Delivery.revision,
            func.min(Delivery.queued_at),
            func.max(Delivery.attempts),
        )
        .where(Delivery.target_id.in_(sources), Delivery.delivered_at.is_(None))
        .group_by(Delivery.post_id, Delivery.revision)
    )
    mine = select(Delivery.post_id, Delivery.revision).where(Delivery.target_id == joined)
    accepted = {(post, revision) for post, revision in session.execute(mine)}
    rows = [
        {"target_id": joined, "post_id": p, "revision": r, "queued_at": q, "attempts": a}
        for p, r, q, a in session.execute(owed)
        if (p, r) not in accepted
    ]
    if rows:
        session.execute(insert(Delivery), rows)


def queue_new(session: Session, board: str, posts: Sequence[StoredPost], now: datetime) -> int:
    """Queue new posts for every subscriber of `board` whose keywords they match."""
    pairs = [(post, 0) for post in posts]
    return _queue(session, board, pairs, now, updates=False)


def queue_updates(session: Session, board: str, posts: Sequence[Retitled], now: datetime) -> int:
    """Queue title changes for the subscribers of `board` who asked for updates."""
    pairs: list[tuple[StoredPost, int]] = [(post, post["revision"]) for post in posts]
    return _queue(session, board, pairs, now, updates=True)


def _queue(
    session: Session,
    board: str,
    posts: Sequence[tuple[StoredPost, int]],
    now: datetime,
    *,
    updates: bool,
) -> int:
    if not posts:
        return 0
    _ledger_lock(session, shared=True)
    rows = []
    for sub, target_ids in _subscribers(session):
        if not _wants(sub, board, updates):
            continue
        for post, revision in posts:
            if matches(sub, post):
                rows += [
                    {"target_id": t, "post_id": post["id"], "revision": revision, "queued_at": now}
                    for t in target_ids
                ]
    if rows:
        session.execute(insert(Delivery), rows)
    return len(rows)


def _receiving() -> ColumnElement[bool]:
    """Conditions on a query joining Target and Subscriber: the target receives digests (it and
    its subscriber active, not opted out)."""
    return and_(Subscriber.active, Target.active, ~optouts.opted_out())


def _subscribers(session: Session) -> list[tuple[Subscriber, list[int]]]:
    query = (
        select(Subscriber, Target.id)
        .join(Target, Target.subscriber_id == Subscriber.id)
        .where(_receiving())
    )
    grouped: dict[int, tuple[Subscriber, list[int]]] = {}
    for sub, target_id in session.execute(query):
        grouped.setdefault(sub.id, (sub, []))[1].append(target_id)
    return list(grouped.values())


def _wants(sub: Subscriber, board: str, updates: bool) -> bool:
    if updates and not sub.include_updates:
        return False
    return sub.boards is None or board in sub.boards


def matches(sub: Subscriber | SubscriberSpec, post: StoredPost) -> bool:
    """Keywords (any) and exclusions (none) in title and summary, as people write them: case,
    spacing, joining punctuation and Unicode form aside ("탄소중립" matches "탄소 중립" and
    "탄소·중립", "ESG" matches "ＥＳＧ", decomposed Hangul matches composed)."""
    text = fold(f"{post['title'] or ''}\n{post['summary'] or ''}")
    if sub.keywords and not any(fold(k) in text for k in sub.keywords if fold(k)):
        return False
    return not any(fold(k) in text for k in sub.exclude_keywords if fold(k))


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Text as a keyword match sees it: NFKC, case folded, no spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PZC")


def pending(
    session: Session,
    subscribers: Sequence[str] | None = None,
    targets: Sequence[int] | None = None,
) -> list[Batch]:
    """Undelivered entries of active targets, grouped by target, newest post first."""
    query = _pending_query()
    if subscribers is not None:
        query = query.where(Subscriber.name.in_(subscribers))
    if targets is not None:
        query = query.where(Target.id.in_(targets))
    batches: dict[int, Batch] = {}
    for row in session.execute(query).mappings():
        batch = batches.get(row["target_id"])
        if batch is None:
            batch = batches[row["target_id"]] = Batch(
                row["subscriber"],
                row["target_id"],
                row["url_hash"],
                row["masked"],
                row["failures"],
                row["last_failure_at"],
                row["identity"],
                row["alerting"],
            )
        batch.entries.append(_entry(row))
    return list(batches.values())


# What an entry and its batch are made of, as plain columns by the names `_entry` and `pending`
# read: the ledger is read once per digest (thousands a run), and rows cost a fraction of the
# mapped objects they would otherwise build.
_PENDING_COLUMNS: dict[str, Any] = {
    **{name: getattr(Post, name) for name in POST_FIELDS},
    "id": Post.id,
    "first_seen": Post.first_seen,
    "board": Board.name,
    "board_title": Board.title,
    "entry_id": Delivery.id,
    "attempts": Delivery.attempts,
    "post_id": Delivery.post_id,
    "revision": Delivery.revision,
    "old_title": Revision.old_title,
    "new_title": Revision.new_title,
    "subscriber": Subscriber.name,
    "target_id": Target.id,
    "url_hash": Target.url_hash,
    "masked": Target.masked,
    "failures": Target.failures,
    "alerting": Target.alerting,
    "last_failure_at": Target.last_failure_at,
    "identity": Target.identity,
}


def _pending_query() -> Select[Any]:
    return (
        select(*(column.label(name) for name, column in _PENDING_COLUMNS.items()))
        .join(Target, Delivery.target_id == Target.id)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .join(Post, Delivery.post_id == Post.id)
        .join(Board, Post.board_id == Board.id)
        .outerjoin(Revision, Delivery.revision == Revision.id)
        .where(Delivery.delivered_at.is_(None), _receiving())
        .order_by(Subscriber.name, Target.id, Post.first_seen.desc(), Post.id, Delivery.revision)
    )


Owed = tuple[int, int]  # an entry, whoever owes it: (post id, revision; 0 is the post itself)


def owed(session: Session, specs: Sequence[SubscriberSpec]) -> dict[str, set[Owed]]:
    """Per subscriber of `specs` (the configuration as read now): the entries its targets would
    owe once the store is synced to it (`sync_subscribers`), worked out without writing — what
    read-only commands show."""
    stored: dict[str, list[Target]] = {}
    for name, target in session.execute(select(Subscriber.name, Target).join(Target)):
        stored.setdefault(name, []).append(target)
    undelivered: dict[int, set[Owed]] = {}
    query = select(Delivery.target_id, Delivery.post_id, Delivery.revision).join(Target)
    for target_id, post_id, revision in session.execute(
        query.where(Delivery.delivered_at.is_(None), Target.active, ~optouts.opted_out())
    ):
        undelivered.setdefault(target_id, set()).add((post_id, revision))
    out = {
        name: {left.identity for left in lefts}
        for name, lefts in optouts.listing(session, [spec.name for spec in specs]).items()
    }
    return {
        spec.name: _owed_after(
            session, stored.get(spec.name, []), spec.targets, undelivered, out.get(spec.name, set())
        )
        for spec in specs
    }


def _owed_after(
    session: Session,
    stored: Sequence[Target],
    targets: Sequence[TargetSpec],
    undelivered: Mapping[int, set[Owed]],
    out: Collection[str] = (),
) -> set[Owed]:
    """What a subscriber's `targets` would owe, its `stored` targets synced to them (a target
    whose identity is among the opted-out ones, `out`, inherits nothing)."""
    wanted = {spec.url_hash for spec in targets}
    ids = {target.url_hash: target.id for target in stored}
    found = set[Owed]().union(
        *(undelivered.get(t.id, ()) for t in stored if t.active and t.url_hash in wanted)
    )
    sources = accounts.inheritance(_accounts(stored), _wanted_accounts(targets))
    left = {spec.url_hash for spec in targets if spec.identity in out}
    for url_hash, hashes in sources.items():
        if url_hash in left:
            continue
        inherited = set[Owed]().union(*(undelivered.get(ids[h], ()) for h in hashes))
        found |= inherited - _accepted(session, ids.get(url_hash))
    return found


def _accepted(session: Session, target_id: int | None) -> set[Owed]:
    if target_id is None:
        return set()
    query = select(Delivery.post_id, Delivery.revision).where(
        Delivery.target_id == target_id, Delivery.delivered_at.is_not(None)
    )
    return {(post_id, revision) for post_id, revision in session.execute(query)}


def owed_entries(session: Session, specs: Sequence[SubscriberSpec]) -> dict[str, list[Entry]]:
    """Per subscriber of `specs`, each entry it would owe once synced (see `owed`), once, newest
    post first: what `digest --preview` shows."""
    wanted = owed(session, specs)
    shown: dict[str, list[Entry]] = {}
    seen: set[tuple[str, int, int]] = set()
    query = _pending_query().where(Subscriber.name.in_(list(wanted)))
    for row in session.execute(query).mappings():
        key, name = (row["post_id"], row["revision"]), row["subscriber"]
        if key in wanted[name] and (name, *key) not in seen:
            seen.add((name, *key))
            shown.setdefault(name, []).append(_entry(row))
    return shown


def claim(store: Store, session: Session, target_id: int) -> Batch | None:
    """One target's pending entries, read afresh, to send now.

    Where the store claims rows (`Store.claims_rows`: PostgreSQL) the target's row stays locked
    in `session` until its answer is recorded, taken with SKIP LOCKED: None means another
    worker is sending to it right now. Elsewhere (SQLite: no row locks, and a writer locks the
    whole file) the entries are only read, in a reader of their own — the run-wide delivery lease
    keeps other runs out, and the writer's turn goes to recording answers, not to reading."""
    if not store.claims_rows:
        with store.read() as reader:
            batches = pending(reader, targets=[target_id])
        return batches[0] if batches else None
    locked = session.scalar(
        select(Target.id).where(Target.id == target_id).with_for_update(skip_locked=True)
    )
    if locked is None:
        return None
    batches = pending(session, targets=[target_id])
    return batches[0] if batches else None


def _entry(row: RowMapping) -> Entry:
    """A pending row as the entry a digest carries: the post as stored, and for a title change
    its new title and the one before."""
    fields = {name: row[name] for name in POST_FIELDS}
    changed = row["new_title"] is not None  # the outer join found the entry's revision
    # `fields` holds exactly the post's fields (POST_FIELDS), which mypy cannot see in a dict
    entry: Entry = Entry(
        **fields,  # type: ignore[typeddict-item]
        id=row["id"],
        board=row["board"],
        board_title=row["board_title"],
        first_seen=row["first_seen"],
        entry_id=row["entry_id"],
        attempts=row["attempts"],
        updated=changed,
        old_title=row["old_title"] if changed else None,
    )
    if changed:  # a title change: the entry says what it was
        entry["title"] = row["new_title"]
    return entry


def mark(session: Session, batch: Batch, error: str | None, now: datetime) -> None:
    """The batch's entries delivered (error None) or tried once more: one statement, what a run
    commits the moment a target answered (see `scheduler.delivery`)."""
    values: dict[str, object] = {"last_attempt_at": now, "attempts": Delivery.attempts + 1}
    values.update(last_error=error) if error else values.update(delivered_at=now, last_error=None)
    session.execute(
        update(Delivery).where(Delivery.id.in_(batch.ids)).values(**values),
        execution_options={"synchronize_session": False},  # the session ends right after
    )


def record_health(
    session: Session, batch: Batch, error: str | None, now: datetime, threshold: int = 3
) -> health.Change | None:
    """The target's failure streak and the subscriber's last delivery after one send; returns
    the target's health change. A target its claim read as healthy that accepted stays so: its
    row is neither read again nor written (most digests). Otherwise the streak is read afresh —
    the claim's lock ended with the commit of the answer, and another worker may have sent to it
    since — and written."""
    # plain statements, not ORM objects: this runs once per digest, thousands of times a run
    change: health.Change | None = None
    if error or batch.failures or batch.alerting:
        failures, alerting = session.execute(
            select(Target.failures, Target.alerting).where(Target.id == batch.target_id)
        ).one()
        state, change = health.step(health.Health(failures, alerting), bool(error), threshold)
        fields: dict[str, object] = {"failures": state.streak, "alerting": state.alerting}
        if error:
            fields["last_failure_at"] = now
        session.execute(update(Target).where(Target.id == batch.target_id).values(**fields))
    if not error:
        session.execute(
            update(Subscriber)
            .where(Subscriber.name == batch.subscriber)
            .values(last_delivered_at=now)
        )
    return change


def record_rounds(session: Session, errors: Mapping[str, Sequence[str]], at: datetime) -> None:
    """Each subscriber's last delivery round: when it was, and what it reported (or nothing)
    as its last error; the many rounds without errors in one statement per thousand."""
    clean = sorted(name for name, found in errors.items() if not found)
    for start in range(0, len(clean), 1000):
        session.execute(
            update(Subscriber)
            .where(Subscriber.name.in_(clean[start : start + 1000]))
            .values(last_error=None, last_digest_at=at),
            execution_options={"synchronize_session": False},
        )
    for name, found in errors.items():
        if found:
            session.execute(
                update(Subscriber)
                .where(Subscriber.name == name)
                .values(last_error="; ".join(found), last_digest_at=at)
            )


def subscriber_states(session: Session, names: Collection[str]) -> dict[str, SubscriberState]:
    """Each named subscriber's digest history, in one statement per thousand names."""
    found: dict[str, SubscriberState] = {}
    ordered = sorted(names)
    for start in range(0, len(ordered), 1000):
        query = select(Subscriber.name, Subscriber.first_seen, Subscriber.last_digest_at).where(
            Subscriber.name.in_(ordered[start : start + 1000])
        )
        found |= {
            name: SubscriberState(first, last) for name, first, last in session.execute(query)
        }
    return found


def pending_counts(session: Session) -> dict[str, int]:
    """Per subscriber: posts (and revisions) awaiting delivery to at least one target."""
    entries = (
        select(Subscriber.name, Delivery.post_id, Delivery.revision)
        .join(Target, Delivery.target_id == Target.id)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .where(Delivery.delivered_at.is_(None), _receiving())
        .distinct()
        .subquery()
    )
    query = select(entries.c.name, func.count()).group_by(entries.c.name)
    return {name: n for name, n in session.execute(query)}


def known_targets(session: Session) -> dict[str, TargetSpec]:
    """Every stored target as it was last configured, by URL hash."""
    query = select(Target.url_hash, Target.masked, Target.identity)
    return {h: TargetSpec(h, masked, identity) for h, masked, identity in session.execute(query)}


def known_urls(session: Session, hashes: Sequence[str]) -> set[str]:
    """Which of these URL hashes were checked before."""
    if not hashes:
        return set()
    return set(session.scalars(select(KnownUrl.url_hash).where(KnownUrl.url_hash.in_(hashes))))


def remember_urls(session: Session, hashes: Sequence[str], now: datetime) -> None:
    """Record these URL hashes as checked (once, however many runs start together)."""
    new = sorted(set(hashes) - known_urls(session, hashes))
    insert_missing(session, KnownUrl, [{"url_hash": h, "checked_at": now} for h in new])


def queued_for(session: Session, subscriber: str, limit: int) -> list[StoredPost]:
    """The latest posts queued for a subscriber (those that matched their boards and keywords)."""
    queued = (
        select(Delivery.post_id)
        .join(Target, Delivery.target_id == Target.id)
        .join(Subscriber, Target.subscriber_id == Subscriber.id)
        .where(Subscriber.name == subscriber)
    )
    query = (
        select(Post, Board)
        .join(Board)
        .where(Post.id.in_(queued))
        .order_by(Post.first_seen.desc(), Post.id.asc())
        .limit(limit)
    )
    return [post_dict(post, record) for post, record in session.execute(query)]
