"""A local generator of many ESG-style boards on one server, for benchmarks.

Board `i` lives at `/b{i}/board.php?bo_table=esg_news&page=P`; its rows are generated on the fly
(no per-post objects, so thousands of boards cost nothing), with view counters that change on
every request, so a tool that watches the whole page sees a change every time and only a tool
that reads titles (or keys) stays quiet. Posts can be added to a board; requests are counted.
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.board import LIST_PAGE, ROW, SEED_TITLES

PER_PAGE = 20


class Boards:
    def __init__(self, count: int, posts: int = 3265) -> None:
        self.count = count
        self.totals = [posts] * count
        self.hits = 0
        self.requests: Counter[str] = Counter()  # "list", "robots", "detail", "other"
        self.lock = threading.Lock()
        self.today = date(2025, 7, 23)

    def add(self, board: int, n: int = 1) -> None:
        with self.lock:
            self.totals[board] += n

    def list_page(self, board: int, page: int) -> str:
        with self.lock:
            self.hits += 1
            total, hits = self.totals[board], self.hits
        rows = []
        for i in range(PER_PAGE):
            number = total - (page - 1) * PER_PAGE - i
            if number < 1:
                break
            post_id = board * 1_000_000 + number
            rows.append(
                ROW.format(
                    num=number,
                    id=post_id,
                    page=page,
                    new="",
                    title=html.escape(f"{SEED_TITLES[number % len(SEED_TITLES)]} ({number}호)"),
                    day=(self.today - timedelta(days=(total - number) // 5)).isoformat(),
                    views=f"{(hits * 7 + number) % 5000:,}",
                )
            )
        return LIST_PAGE.format(charset='<meta charset="utf-8">', rows="".join(rows), pages="")

    def detail_page(self, post_id: int) -> str:
        return (
            f"<html><body><div class='view_content'><p>본문 {post_id}</p></div>"
            "<p class='view_dept'>담당부서 : 환경부</p></body></html>"
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as two writes: without TCP_NODELAY a keep-alive client waits for
    # its delayed ACK (~40 ms) on every response, which no real web server makes it do
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        boards: Boards = self.server.boards  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            kind, body = "robots", "User-agent: *\nAllow: /\n"
        elif parts.path.endswith("/board.php") and "no" in query:
            kind, body = "detail", boards.detail_page(int(query["no"]))
        elif parts.path.endswith("/board.php"):
            board = int(parts.path.split("/")[1][1:])
            kind, body = "list", boards.list_page(board, int(query.get("page", "1")))
        else:
            kind, body = "other", "not found"
        with boards.lock:
            boards.requests[kind] += 1
        data = body.encode()
        self.send_response(404 if kind == "other" else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the listen backlog: set before listen(), unlike after __init__
    daemon_threads = True


class BoardGenerator:
    def __init__(self, boards: Boards) -> None:
        self.boards = boards
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.boards = boards  # type: ignore[attr-defined]

    def url(self, board: int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/b{board}/board.php?bo_table=esg_news&page=1"

    def __enter__(self) -> BoardGenerator:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
