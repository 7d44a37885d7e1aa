"""The one error type of the scraper package."""

from __future__ import annotations


class CrawlError(Exception):
    """A board could not be crawled: names the board and the URL, and a hint for the fix."""

    def __init__(self, board: str, url: str, reason: str, hint: str = "") -> None:
        super().__init__(f"{board}: {url}: {reason}")
        self.board, self.url, self.reason, self.hint = board, url, reason, hint
