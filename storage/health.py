"""When a board or a delivery target counts as failing, and when as recovered: one policy for both.

Pure functions over plain values; `storage.runs` and `storage.ledger` persist what they return.
A thing is *failing* once it has failed `threshold` times in a row (or at once, for an alarm such
as a layout change); that raises one alert. Its next success is one *recovery*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Change = Literal["failing", "recovered"]


@dataclass(frozen=True)
class Health:
    streak: int = 0  # failures in a row
    alerting: bool = False  # an alert went out and no recovery since


def step(
    health: Health, failed: bool, threshold: int, *, alarm: bool = False
) -> tuple[Health, Change | None]:
    """The health after one more run (or send), and the alert it calls for, if any."""
    if not failed:
        return Health(), "recovered" if health.alerting else None
    streak = health.streak + 1
    if not health.alerting and (alarm or streak >= threshold):
        return Health(streak, True), "failing"
    return Health(streak, health.alerting), None
