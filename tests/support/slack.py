"""Loopback HTTPS proxy that records what Apprise's Slack plugin POSTs.

Apprise talks to https://hooks.slack.com through ``requests``, which honours
``HTTPS_PROXY``: it sends ``CONNECT hooks.slack.com:443`` to us, we answer 200,
then play the Slack server inside the tunnel with a throwaway certificate
from an untrusted trustme CA (hence ``verify=no`` in the Apprise URL).
Bodies are read by Content-Length (what ``requests`` sends); no chunked uploads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, BinaryIO

import trustme

TOKENS = ("T0BWTEST1", "B0BWTEST2", "xoxSECRETtoken123")


@dataclass
class RecordedRequest:
    method: str
    host: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _read_head(stream: BinaryIO) -> tuple[str, dict[str, str]] | None:
    """Read a request line plus headers; None on a cleanly closed connection."""
    line = stream.readline(65537)
    if not line.strip():
        return None
    headers: dict[str, str] = {}
    while True:
        raw = stream.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return line.decode("latin-1").strip(), headers


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 10  # safety net: no handler thread can block forever

    def handle(self) -> None:
        # OSError: client went away, TLS failed, or we are shutting down.
        with contextlib.suppress(OSError):
            self._handle()

    def _handle(self) -> None:
        recorder = self.server.recorder
        recorder._track(self.request)
        head = _read_head(self.rfile)
        if head is None:
            return
        request_line, _ = head
        method, target, _version = request_line.split(" ", 2)
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        tunnel_host = target.rsplit(":", 1)[0]
        tls = recorder._ssl.wrap_socket(self.request, server_side=True)
        recorder._track(tls)
        with tls, tls.makefile("rb") as rfile:
            while head := _read_head(rfile):  # keep-alive: loop over requests
                request_line, headers = head
                method, path, _version = request_line.split(" ", 2)
                body = rfile.read(int(headers.get("content-length", "0")))
                host = headers.get("host", tunnel_host).rsplit(":", 1)[0]
                recorder._record(RecordedRequest(method, host, path, headers, body))
                status, payload = recorder.status, recorder.body
                tls.sendall(
                    f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                    "Content-Type: text/html\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = False  # only non-daemon handler threads get joined ...
    block_on_close = True  # ... by server_close(), so __exit__ leaves none behind
    recorder: SlackRecorder


class SlackRecorder:
    """Fake hooks.slack.com reached through a loopback HTTPS proxy.

    ``status`` (default 200) and ``body`` (default ``b"ok"``, what Slack
    answers) can be changed while running, e.g. ``status = 500``.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.status = 200
        self.body = b"ok"
        self._cond = threading.Condition()
        self._sockets: list[socket.socket] = []
        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        trustme.CA().issue_cert("hooks.slack.com").configure_cert(self._ssl)
        self._server = _Server(("127.0.0.1", 0), _ProxyHandler)
        self._server.recorder = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def env(self) -> dict[str, str]:
        """Variables routing ``requests`` HTTPS traffic through this proxy."""
        proxy = f"http://127.0.0.1:{self.port}"
        return {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def url(self, channel: str = "alerts") -> str:
        """Apprise webhook URL; POSTs go to /services/<the three tokens>."""
        return "slack://{}/{}/{}/#{}?verify=no".format(*TOKENS, channel)

    def wait_for(self, n: int, timeout: float = 10) -> list[RecordedRequest]:
        """Block until at least ``n`` requests were recorded; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {n} request(s), got {len(self.requests)}")
                self._cond.wait(left)
            return list(self.requests)

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _track(self, sock: socket.socket) -> None:
        with self._cond:
            self._sockets.append(sock)

    def __enter__(self) -> SlackRecorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()  # stop accepting
        with self._cond:  # unblock handler threads waiting on idle keep-alives
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=5)
