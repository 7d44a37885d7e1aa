"""Whose debts a target takes on when a subscriber's targets change: one policy, used when the
store is synced to the configuration (`storage.ledger.sync_subscribers`) and when a read-only
command shows what such a sync would leave owed (`storage.ledger.owed`).

A target is its URL (by hash): an edited URL is a target that joins, and the one it replaces
leaves. Pure functions over plain values, tested by a table of cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Account(NamedTuple):
    """A target as the policy sees it: its URL hash and its kind (the scheme of its URL)."""

    url_hash: str
    kind: str


def kind(masked: str) -> str:
    """A target's kind: the scheme of its (masked) URL."""
    return masked.split("://", 1)[0].lower()


def inheritance(had: Sequence[Account], wanted: Sequence[Account]) -> Mapping[str, list[str]]:
    """For each target that joins (wanted, not among the active ones the subscriber `had`), the
    targets of `had` whose unaccepted entries it takes on, by URL hash.

    Edited: one target of a kind left and one of that kind came — it inherits from the one that
    left. Added (or several of a kind changed at once): it inherits from every target the
    subscriber had, so it gets what is still owed and never history."""
    current = {account.url_hash for account in wanted}
    kept = {account.url_hash for account in had}
    left = [account for account in had if account.url_hash not in current]
    joined = [a for a in {a.url_hash: a for a in wanted}.values() if a.url_hash not in kept]
    return {account.url_hash: _replaced(account, joined, left, had) for account in joined}


def _replaced(
    target: Account, joined: Sequence[Account], left: Sequence[Account], had: Sequence[Account]
) -> list[str]:
    gone = [account.url_hash for account in left if account.kind == target.kind]
    came = [account for account in joined if account.kind == target.kind]
    return gone if len(gone) == 1 and len(came) == 1 else [account.url_hash for account in had]
