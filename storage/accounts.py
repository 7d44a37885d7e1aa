"""Whose debts a target takes on when a subscriber's targets change: one policy, used when the
store is synced to the configuration (`storage.ledger.sync_subscribers`) and when a read-only
command shows what such a sync would leave owed (`storage.ledger.owed`).

A target is its URL (by hash): an edited URL is a target that joins, and the one it replaces
leaves. Each target keeps its own account: a joining target inherits what the target it
replaces had not accepted — never what another target owed, so a target that accepted a post
never gets it again. Pure functions over plain values, tested by a table of cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Account(NamedTuple):
    """A target as the policy sees it: its URL hash, its kind (the scheme of its URL) and its
    identity (what the URL names apart from its secrets; None when not known)."""

    url_hash: str
    kind: str
    identity: str | None = None


def kind(masked: str) -> str:
    """A target's kind: the scheme of its (masked) URL."""
    return masked.split("://", 1)[0].lower()


def inheritance(had: Sequence[Account], wanted: Sequence[Account]) -> Mapping[str, list[str]]:
    """For each target that joins (wanted, not among the active ones the subscriber `had`), the
    targets of `had` whose unaccepted entries it takes on, by URL hash.

    Edited: the target that left with the same identity, where exactly one left and exactly
    one joins with it (a secret changed); else, among the rest, the one target of its kind that
    left where it alone of its kind joins (a port, an address changed). Added (or no such match):
    every target the subscriber had, so it gets what is still owed and never history."""
    current = {account.url_hash for account in wanted}
    kept = {account.url_hash for account in had}
    left = [a for a in had if a.url_hash not in current]
    joined = [a for a in {a.url_hash: a for a in wanted}.values() if a.url_hash not in kept]
    same = _same_identity(joined, left)
    joined_rest = [a for a in joined if a.url_hash not in same]
    left_rest = [a for a in left if a.url_hash not in same.values()]
    return {
        a.url_hash: [same[a.url_hash]]
        if a.url_hash in same
        else _replaced(a, joined_rest, left_rest, had)
        for a in joined
    }


def _same_identity(joined: Sequence[Account], left: Sequence[Account]) -> dict[str, str]:
    """Joining target → the target that left with its identity, where each side has it once."""
    came, gone = _unique(joined), _unique(left)
    return {came[identity]: gone[identity] for identity in came.keys() & gone.keys()}


def _unique(accounts: Sequence[Account]) -> dict[str, str]:
    counts = Counter(a.identity for a in accounts if a.identity)
    return {a.identity: a.url_hash for a in accounts if a.identity and counts[a.identity] == 1}


def _replaced(
    target: Account, joined: Sequence[Account], left: Sequence[Account], had: Sequence[Account]
) -> list[str]:
    gone = [account.url_hash for account in left if account.kind == target.kind]
    came = [account for account in joined if account.kind == target.kind]
    return gone if len(gone) == 1 and len(came) == 1 else [account.url_hash for account in had]
