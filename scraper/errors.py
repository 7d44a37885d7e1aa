"""The crawler's one error type: which board, which page, what went wrong, what to try."""

from __future__ import annotations

from records.errors import BoardwatchError


class CrawlError(BoardwatchError):
    """A board's walk could not be done (or read right); names the board and the URL.

    Raised where it happens (a page that cannot be requested, read, or read right); the spider
    catches it where that board's walk ends, and the walk's item carries it to the verdict.
    `refused`: the page was fetched but cannot be read right (a layout the profile does not fit).
    """

    def __init__(
        self, board: str, url: str, reason: str, hint: str = "", *, refused: bool = False
    ) -> None:
        super().__init__(f"{reason} ({url})" if url and url not in reason else reason, hint)
        self.board, self.url, self.reason = board, url, reason
        self.refused = refused
