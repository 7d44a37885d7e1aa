"""Local sites for tests: a handler that answers quietly, and a server on a loopback port of its
own that runs while a `with` block does.

    class Handler(PageHandler):
        def do_GET(self) -> None:
            self.send_page(200, "<html>…</html>")

    with LocalServer(Handler, board=board) as server:  # the handler reads `self.server.board`
        server.base  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class PageHandler(BaseHTTPRequestHandler):
    def send_page(
        self, status: int, page: str | bytes, kind: str = "text/html", charset: str = "utf-8"
    ) -> None:
        body = page.encode(charset) if isinstance(page, str) else page
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset={charset}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """A threaded local server whose handler threads die with the process, and for which a
    client that hung up before its answer was written (a crawl that stopped reading, a test that
    ended) is no error: its traceback, printed by a handler thread that may outlive its test,
    would land in the output the next test on that worker captures. Anything else is printed as
    before."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    """`handler` on a free loopback port; each keyword becomes an attribute of the server its
    handlers see (`self.server.board`)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], **attached: object) -> None:
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        for name, value in attached.items():
            setattr(self.httpd, name, value)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
