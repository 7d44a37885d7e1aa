"""`scrape status --check` and the daemon's `/healthz`: is boardwatch healthy? One line per
reason it is not — an enabled board whose last run failed, that never ran, or whose last run is
older than 3 of its intervals (3 fire times of its cron schedule); a target past
`failure_threshold` — for health probes (Kubernetes, Docker HEALTHCHECK, Nagios). Pure
functions over the status `storage.runs` reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.config import Config
from scheduler.config.values import interval_seconds
from scheduler.policy.due import cron_trigger
from storage.runs import Status

MISSED = 3  # intervals a board's last run may be old before it counts as stalled


def overdue_at(last_run: datetime, interval: str, cron: str | None, zone: ZoneInfo) -> datetime:
    """When a board last run at `last_run` counts as stalled: 3 intervals (fire times) later."""
    if not cron:
        return last_run + MISSED * timedelta(seconds=interval_seconds(interval))
    trigger, at = cron_trigger(cron, zone), last_run
    for _ in range(MISSED):
        fire = trigger.get_next_fire_time(None, at + timedelta(seconds=1))
        if fire is None:
            return datetime.max.replace(tzinfo=zone)
        at = fire
    return at


def report(cfg: Config, status: Status, now: datetime) -> tuple[bool, list[str]]:
    """Healthy or not, and the lines that say so: `CRITICAL …` one per reason, else one `OK …`
    line — what `status --check` prints and `/healthz` answers."""
    found = problems(cfg, status, now)
    if found:
        return False, [f"CRITICAL {line}" for line in found]
    boards = sum(b.enabled for b in cfg.boards)
    return True, [f"OK {boards} board(s) ran on time; no target past failure_threshold"]


def problems(cfg: Config, status: Status, now: datetime) -> list[str]:
    """Why boardwatch is not healthy, one line each; empty when it is."""
    found = _boards(cfg, {b["name"]: b for b in status["boards"]}, now)
    threshold = cfg.notify.failure_threshold
    configured = {s.name for s in cfg.subscribers}
    for sub in status["subscribers"]:
        if sub["name"] not in configured:
            continue
        for target in sub["failing"]:
            if target["failures"] >= threshold:
                found.append(
                    f"subscriber {sub['name']}: target {target['target']} refused "
                    f"{target['failures']} sends in a row (failure_threshold = {threshold})"
                )
    return found


def _boards(cfg: Config, seen: Mapping[str, Any], now: datetime) -> list[str]:
    zone, found = ZoneInfo(cfg.timezone), []
    for board in (b for b in cfg.boards if b.enabled):
        state: Mapping[str, Any] = seen.get(board.name) or {}
        last = state.get("last_run_at")
        if last is None:
            found.append(f"board {board.name}: never run")
        elif state.get("last_result") == "error":
            found.append(f"board {board.name}: last run failed: {state.get('error') or 'error'}")
        elif now >= overdue_at(last, board.interval, board.cron, zone):
            every = f"cron {board.cron!r}" if board.cron else f"every {board.interval}"
            when = last.astimezone(zone).isoformat(timespec="seconds")
            found.append(
                f"board {board.name}: last run {when} is older than {MISSED} intervals ({every})"
            )
    return found
