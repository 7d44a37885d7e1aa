"""systemd's notify protocol (`Type=notify`, `WatchdogSec=`), in the few lines of standard library
it takes: READY=1 once the daemon serves, WATCHDOG=1 every half watchdog interval while its event
loop turns (a hung loop misses it and systemd restarts the service), STOPPING=1 on the way out.
Outside systemd (`$NOTIFY_SOCKET` unset) every call does nothing."""

from __future__ import annotations

import asyncio
import os
import socket

from scheduler.ops.logs import LOG


def notify(state: str) -> bool:
    """Send `state` to systemd; False when not run by systemd or the socket is gone."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)  # never hold the event loop up, whoever listens
            sock.connect(address)
            sock.send(state.encode())
    except BlockingIOError:  # the listener is behind: this ping is lost, the next may not be
        return False
    except OSError as exc:
        LOG.warning("could not tell systemd %s: %s", state.split("=")[0], exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 messages (half of `WatchdogSec`), or None without a watchdog."""
    usec, pid = os.environ.get("WATCHDOG_USEC", ""), os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6


async def feed_watchdog(interval: float) -> None:
    """Feed the watchdog for as long as the event loop runs this task."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)
