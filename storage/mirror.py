"""Whether the store mirrors a configuration already: the digest of the configuration the last
complete sync made the tables match, kept beside them.

Every command that crawls or sends starts with a sync (`storage.ledger.sync_subscribers`,
`storage.posts.sync_boards`); a sync reads every subscriber and target, so with 10,000
subscribers it was most of a quiet run's start. A sync of an unchanged configuration changes
nothing, so a start whose configuration has the digest stored here reads one row instead.

The digest is written in the sync's own transaction, so it never names a configuration a sync
did not finish. Two workers with different configurations each find the other's digest and sync
(correct, only slower). A subscriber or target deleted by hand is noticed by the counts of active
ones. A migration that changes what a sync writes deletes the row, so the next start syncs.
Only subscribers and targets are counted: a board row or a subscriber's keywords changed by
hand in SQL stay as they are until the config changes (`DELETE FROM mirror` makes the next
start sync).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from storage.models import Mirror, Subscriber, Target


def mirrors(session: Session, digest: str, *, subscribers: int, targets: int) -> bool:
    """Does the store mirror the configuration of `digest` already: the last sync was of it, and
    it holds as many active subscribers and targets as that configuration has? One statement."""
    query = select(
        select(Mirror.digest).where(Mirror.id == 1).scalar_subquery(),
        select(func.count()).select_from(Subscriber).where(Subscriber.active).scalar_subquery(),
        select(func.count()).select_from(Target).where(Target.active).scalar_subquery(),
    )
    return tuple(session.execute(query).one()) == (digest, subscribers, targets)


def remember(session: Session, digest: str, at: datetime) -> None:
    """Record that this transaction's sync made the store mirror the configuration of `digest`
    (callers hold the sync's lock: on PostgreSQL syncs take turns)."""
    session.execute(delete(Mirror))
    session.execute(insert(Mirror).values(id=1, digest=digest, synced_at=at))
