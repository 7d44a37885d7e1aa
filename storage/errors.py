"""The store's one error type: what could not be done, and what to check."""

from __future__ import annotations

from records.errors import BoardwatchError


class StoreError(BoardwatchError):
    """The database could not be opened, upgraded, read or written.

    `hint` says what the operator should check; the message never carries SQL text.
    """
