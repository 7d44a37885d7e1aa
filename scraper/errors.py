"""The crawler's one error type: which board, which page, what went wrong, what to try."""

from __future__ import annotations


class CrawlError(Exception):
    """A board's walk could not be done (or read right); names the board and the URL."""

    def __init__(self, board: str, url: str, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason} ({url})" if url and url not in reason else reason)
        self.board, self.url, self.reason, self.hint = board, url, reason, hint
