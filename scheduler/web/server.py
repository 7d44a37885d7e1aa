"""Serving the HTTP port: the standard library's WSGI server, a thread per request (as
prometheus_client serves its own /metrics), itself in a thread beside the daemon's event loop —
so a slow request never holds a crawl back, and a page's database reads never block the loop."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from scheduler.ops.logs import LOG

REQUEST_TIMEOUT = 10  # seconds a client may take to send its request
POLL = 0.1  # seconds: how soon `stop` is heard (the daemon must exit within 5 s of SIGTERM)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a request in flight never holds the daemon's exit


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("http: %s " + format, self.address_string(), *args)


@dataclass
class Served:
    """A server running in its own thread."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def split(address: str) -> tuple[str, int]:
    """`host:port` → (host, port): `[::1]` without its brackets, no host as every interface."""
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve(address: str, app: Any) -> Served:
    """Serve the WSGI `app` on `address` (`host:port`; port 0: one the system picks) until
    `stop`. Raises OSError when the address cannot be bound."""
    host, port = split(address)
    kind = _Server6 if ":" in host else _Server
    server = make_server(host, port, app, server_class=kind, handler_class=_Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL}, name="http", daemon=True
    )
    thread.start()
    return Served(server, thread)
