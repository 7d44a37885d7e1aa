"""Delivery's one error type: which target (masked) refused, why, and what to check."""

from __future__ import annotations


class DeliveryError(Exception):
    """A target did not accept a message. `target` is always the masked URL."""

    def __init__(self, target: str, reason: str, hint: str = "", subscriber: str = "") -> None:
        super().__init__(reason)
        self.target, self.reason, self.hint, self.subscriber = target, reason, hint, subscriber

    def __str__(self) -> str:
        who = f"{self.subscriber} → " if self.subscriber else ""
        return f"{who}{self.target}: {self.reason}"
