"""What storing one walk did: made by the store (`storage.posts.ingest`), carried unchanged by
the crawl's `StoredWalk`, judged by the scheduler (`scheduler.policy.verdict`)."""

from __future__ import annotations

from dataclasses import dataclass

from records.post import Retitled


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    """Posts first seen (their keys), posts retitled, ledger entries queued, and what the walk
    showed of the board besides."""

    new: tuple[str, ...] = ()  # the keys of the posts first seen, in the walk's order (the walk
    # holds their rows; a baseline's thousands of stored posts are not kept twice till it ends)
    retitled: tuple[Retitled, ...] = ()
    queued: int = 0
    baseline: bool = False  # this walk was the board's baseline (its first complete one)
    had_posts: bool = True  # the board had stored posts before this walk (or the walk showed some)
    quiet: int = 0  # the last of `new`, stored silently: the rest of a failed first walk, and
    # rows that matched stored posts not certainly enough to take their new keys (see `moved`)
    moved: int = 0  # stored posts that took new keys: a board whose links were re-keyed
    unsure: int = 0  # rows like stored posts, but not one alone: stored again, unsent
