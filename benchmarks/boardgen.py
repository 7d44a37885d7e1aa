"""A local generator of many ESG-style boards on one server, for benchmarks.

Board `i` lives at `/b{i}/board.php?bo_table=esg_news&page=P`; its rows are generated on the fly
(no per-post objects, so thousands of boards cost nothing), with view counters that change on
every request, so a tool that watches the whole page sees a change every time and only a tool
that reads titles (or keys) stays quiet. Posts can be added to a board; requests are counted
(in all, and by host and kind), as are the requests being answered at once per host.

One `BoardGenerator` serves every board on one address; `Sites` spreads the boards over several
loopback addresses (127.0.0.2, 127.0.0.3, …: this machine too), one server and site each, board
`i` on site `i % sites`. An answer can be made to take a fixed time or a random time in a range.
"""

from __future__ import annotations

import html
import random
import threading
import time
from collections import Counter
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.board import LIST_PAGE, ROW, SEED_TITLES

PER_PAGE = 20
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"
# gnuboard5 5.6.34's basic skin, as the real engine served it (see tests/fixtures/corpus): its page
# around the rows, and one row of it — a post with a New icon and a comment count — as the mould
_G5_PAGE = (CORPUS / "gnuboard" / "g5_5634_basic_titles_like_markers.html").read_text("utf-8")
G5_HEAD = _G5_PAGE[: _G5_PAGE.index("<tbody>") + len("<tbody>")]
G5_TAIL = _G5_PAGE[_G5_PAGE.index("</tbody>") :]
G5_ROW = """<tr class="{cls}"><td class="td_num2">{num}</td>
<td class="td_subject" style="padding-left:0px"><div class="bo_tit">
<a href="/b{board}/bbs/board.php?bo_table=free&amp;wr_id={id}">{lock}{title}</a>
{new}{comments}</div></td>
<td class="td_name sv_use"><span class="sv_member">최고관리자</span></td>
<td class="td_num">{views}</td><td class="td_datetime">{day}</td></tr>
"""
FAMILIES = ("esg", "gnuboard")


class Boards:
    def __init__(
        self,
        count: int,
        posts: int = 3265,
        delay: float | tuple[float, float] = 0.0,
        family: str = "esg",
    ) -> None:
        if family not in FAMILIES:
            raise ValueError(f"family: one of {FAMILIES}")
        self.count, self.family = count, family
        self.totals = [posts] * count
        self.hits = 0
        self.requests: Counter[str] = Counter()  # "list", "robots", "detail", "other"
        self.lock = threading.Lock()
        # seconds each answer takes (a site far away); (low, high): uniform at random per request
        self.delay: float | tuple[float, float] = delay
        self.by_host: Counter[tuple[str, str]] = Counter()  # (host, kind) -> requests
        self.in_flight: Counter[str] = Counter()  # by host: requests being answered now …
        self.most_in_flight: Counter[str] = Counter()  # … and the most there ever were at once
        self.today = date(2025, 7, 23)
        self.crawls: dict[int, list[float]] = {}  # board -> when its page 1 was asked for
        self.arrivals: dict[str, list[float]] = {}  # host -> when each request arrived

    def crawl_times(self) -> dict[int, list[float]]:
        """Each board's crawls as the server saw them: when page 1 was asked for (monotonic)."""
        with self.lock:
            return {board: list(times) for board, times in self.crawls.items()}

    def pause(self) -> float:
        """How long the next answer waits, in seconds."""
        if isinstance(self.delay, tuple):
            return random.uniform(*self.delay)
        return self.delay

    def reset_in_flight(self) -> None:
        """Forget the most requests in flight seen so far (to watch one run)."""
        with self.lock:
            self.most_in_flight.clear()

    def add(self, board: int, n: int = 1) -> None:
        with self.lock:
            self.totals[board] += n

    def list_page(self, board: int, page: int) -> str:
        with self.lock:
            self.hits += 1
            total, hits = self.totals[board], self.hits
        if self.family == "gnuboard":
            return self._g5_page(board, page, total, hits)
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

    def _g5_page(self, board: int, page: int, total: int, hits: int) -> str:
        """A gnuboard5 basic-skin list page: a pinned notice, New icons on the newest three
        posts, comment counts on every third, a lock on every seventh, views that change."""
        rows = []
        if page == 1:
            rows.append(
                G5_ROW.format(
                    cls="bo_notice",
                    num='<strong class="notice_icon">공지</strong>',
                    board=board,
                    id=board * 1_000_000,
                    lock="",
                    title="[공지] 게시판 이용 안내",
                    new="",
                    comments="",
                    views=f"{hits % 900}",
                    day="09-01",
                )
            )
        for i in range(PER_PAGE):
            number = total - (page - 1) * PER_PAGE - i
            if number < 1:
                break
            fresh = total - number < 3
            rows.append(
                G5_ROW.format(
                    cls="even" if number % 2 else "",
                    num=number,
                    board=board,
                    id=board * 1_000_000 + number,
                    lock='<i class="fa fa-lock" aria-hidden="true"></i>' if number % 7 == 0 else "",
                    title=html.escape(f"{SEED_TITLES[number % len(SEED_TITLES)]} ({number}호)"),
                    new='<span class="new_icon">N<span class="sound_only">새글</span></span>'
                    if fresh
                    else "",
                    comments=f'<span class="sound_only">댓글</span><span class="cnt_cmt">'
                    f'{number % 5 + 1}</span><span class="sound_only">개</span>'
                    if number % 3 == 0
                    else "",
                    views=f"{(hits * 7 + number) % 5000}",
                    day="07:31"
                    if fresh
                    else (self.today - timedelta(days=(total - number) // 5)).strftime("%m-%d"),
                )
            )
        return G5_HEAD + "".join(rows) + G5_TAIL

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
        host = self.headers.get("Host", "")
        with boards.lock:
            boards.in_flight[host] += 1
            boards.most_in_flight[host] = max(boards.most_in_flight[host], boards.in_flight[host])
            boards.arrivals.setdefault(host, []).append(time.monotonic())
        try:
            pause = boards.pause()
            if pause > 0:
                time.sleep(pause)
            self._answer(boards, host)
        finally:
            with boards.lock:
                boards.in_flight[host] -= 1

    def _answer(self, boards: Boards, host: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            kind, body = "robots", "User-agent: *\nAllow: /\n"
        elif parts.path.endswith("/board.php") and ("no" in query or "wr_id" in query):
            kind, body = "detail", boards.detail_page(int(query.get("no") or query["wr_id"]))
        elif parts.path.endswith("/board.php"):
            board = int(parts.path.split("/")[1][1:])
            page = int(query.get("page", "1"))
            kind, body = "list", boards.list_page(board, page)
            if page == 1:
                with boards.lock:
                    boards.crawls.setdefault(board, []).append(time.monotonic())
        else:
            kind, body = "other", "not found"
        with boards.lock:
            boards.requests[kind] += 1
            boards.by_host[host, kind] += 1
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
    def __init__(self, boards: Boards, host: str = "127.0.0.1") -> None:
        self.boards = boards
        self.httpd = _Server((host, 0), _Handler)
        self.httpd.boards = boards  # type: ignore[attr-defined]

    @property
    def netloc(self) -> str:
        """host:port, as clients send it in the Host header (the key of the per-host counts)."""
        host, port = self.httpd.server_address[:2]
        return f"{host}:{port}"

    def url(self, board: int) -> str:
        if self.boards.family == "gnuboard":
            return f"http://{self.netloc}/b{board}/bbs/board.php?bo_table=free&page=1"
        return f"http://{self.netloc}/b{board}/board.php?bo_table=esg_news&page=1"

    def __enter__(self) -> BoardGenerator:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Sites:
    """`boards` spread over `count` sites: one server each on 127.0.0.2, 127.0.0.3, … (or on
    127.0.0.1 when there is one site); board `i` lives on site `i % count`."""

    def __init__(self, boards: Boards, count: int) -> None:
        if not 1 <= count <= 250:
            raise ValueError("1 to 250 sites")
        hosts = ["127.0.0.1"] if count == 1 else [f"127.0.0.{i + 2}" for i in range(count)]
        self.boards = boards
        self.servers = [BoardGenerator(boards, host) for host in hosts]

    @property
    def netlocs(self) -> list[str]:
        return [server.netloc for server in self.servers]

    def url(self, board: int) -> str:
        return self.servers[board % len(self.servers)].url(board)

    def urls(self) -> list[str]:
        return [self.url(i) for i in range(self.boards.count)]

    def most_in_flight(self) -> int:
        """The most requests any one site was answering at once (since the last reset)."""
        with self.boards.lock:
            return max((self.boards.most_in_flight[n] for n in self.netlocs), default=0)

    def requests(self, kind: str) -> dict[str, int]:
        """Requests of one kind ("list", "robots", …) per site so far."""
        with self.boards.lock:
            return {n: self.boards.by_host[n, kind] for n in self.netlocs}

    def __enter__(self) -> Sites:
        for server in self.servers:
            server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        # each shutdown waits up to one poll interval (0.5 s) for its loop: all at once
        stops = [threading.Thread(target=server.__exit__, args=exc) for server in self.servers]
        for stop in stops:
            stop.start()
        for stop in stops:
            stop.join()
