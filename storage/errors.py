"""The store's one error type: what could not be done, and what to check."""

from __future__ import annotations


class StoreError(Exception):
    """The database could not be opened, upgraded, read or written.

    `hint` says what the operator should check; the message never carries SQL text.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
