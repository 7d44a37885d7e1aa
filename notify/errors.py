"""Delivery's one error type: which target (masked) refused, why, and what to check."""

from __future__ import annotations

import re

_OVERSIZED = re.compile(
    r"too (?:large|long|big)|size limit|exceed|\b(?:552|554 5\.3\.4|413)\b|msg_too_long"
    r"|invalid_blocks|no_text|line too long|payload",
    re.IGNORECASE,
)


class DeliveryError(Exception):
    """A target did not accept a message. `target` is always the masked URL."""

    def __init__(self, target: str, reason: str, hint: str = "", subscriber: str = "") -> None:
        super().__init__(reason)
        self.target, self.reason, self.hint, self.subscriber = target, reason, hint, subscriber

    @property
    def oversized(self) -> bool:
        """Did the target refuse the message as too large or malformed (so a smaller one may
        pass), rather than being down or refusing the sender?"""
        return bool(_OVERSIZED.search(self.reason))

    def __str__(self) -> str:
        who = f"{self.subscriber} → " if self.subscriber else ""
        return f"{who}{self.target}: {self.reason}"
