"""What a command has committed so far, kept as it happens: when Ctrl-C stops it, one line says
what stays done (boards whose walks are stored, digests a target accepted) and what does not.

A board's walk is committed by the store pipeline the moment it ends (its new posts and their
queued entries together), a digest the moment its target answered (`scheduler.delivery`); the
runs' health is recorded after the crawl, the feeds after that."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from scheduler.policy.verdict import CrawlReport


class Answered(Protocol):
    """A target's answer, as `scheduler.delivery` reports it: `error` None when it accepted."""

    @property
    def error(self) -> object: ...


Sending = Literal["no", "later", "now", "done"]


@dataclass
class Progress:
    boards: int = 0  # boards the command set out to crawl and store (0: it stores none)
    stored: list[str] = field(default_factory=list)  # boards whose walk ended, stored
    sending: Sending = "no"  # "later": after the crawl; "now": under way
    delivered: int = 0  # digests a target accepted, recorded as delivered
    wrote: list[str] = field(default_factory=list)  # anything else written (init: the file)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def board_done(self, report: CrawlReport) -> None:
        """A board's run is judged: a walk that ended (failed or not) stored what it found."""
        if not report.interrupted:
            self.stored.append(report.board)

    def digest_done(self, report: Answered) -> None:
        """A target answered and its answer is recorded (called from the sending threads)."""
        if report.error is None:
            with self._lock:
                self.delivered += 1

    def interrupted(self) -> str:
        """The one line Ctrl-C leaves: what was committed, and what the next run picks up."""
        said = []
        if self.boards:
            said.append(self._crawled())
        if self.sending == "later":
            said.append("no digest sent")
        elif self.sending in ("now", "done"):
            said.append(self._sent())
        said += self.wrote
        return "interrupted: " + ("; ".join(said) if said else "nothing was changed")

    def _crawled(self) -> str:
        if not self.stored:
            return f"no board crawled yet (of {self.boards}), nothing stored"
        done = f"{len(self.stored)} of {self.boards} board(s) crawled, what they found stored"
        rest = " (the next run crawls the rest)" if len(self.stored) < self.boards else ""
        return done + rest

    def _sent(self) -> str:
        done = f"{self.delivered} digest(s) delivered and recorded"
        if self.sending == "done":
            return done
        if not self.delivered:
            done = "no digest delivered yet"
        return f"{done}; the rest stay queued (a digest being sent as you stopped may come again)"
