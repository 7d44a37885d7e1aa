"""boardwatch's one error base. Each package raises its own kind where the trouble happens —
`ConfigError` (the file, the key), `CrawlError` (the board, the URL), `StoreError`,
`DeliveryError` (the masked target) — and it travels as this object up to where it is shown: a
log line, `--json`, an admin alert, the exit code. Text is made there, from the message and the
`hint` (what to do about it), never on the way."""

from __future__ import annotations


class BoardwatchError(Exception):
    """What went wrong, in our words (`str(error)`), and `hint`: what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def shown(self) -> str:
        """The one line a person reads: what went wrong, then what to do."""
        return f"{self}; {self.hint}" if self.hint else str(self)
