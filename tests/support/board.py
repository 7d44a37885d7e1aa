"""A local ESG 정책뉴스-style board: list pages with running numbers, pinned notices on every
page, "New" markers, view counters that change on every request, and detail pages.

Served on 127.0.0.1, port 0, from a thread; tests change it while it runs (add, delete, retitle,
fail pages, robots.txt) and read `requests` to see what the crawler fetched.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.support.serving import QuietServer

SEED_TITLES = [
    "8월 부산에서 모이는 40여개국 에너지장관들, 의전차로 수소차 탄다.",
    "건설노동자 산재예방과 고용개선을 위해 협력",
    "지능형(스마트)안전기술로 중소제조현장의 중대재해를 예방한다",
    "수력에너지로 생산한 그린수소 본격 공급",
    "국제사회 기후적응 목표 달성을 위한 협력과 연대의 장 마련",
    "재생에너지전기공급사업 제도개선으로 기업의 청정에너지로의 전환 뒷받침",
    "한국 첫 국제탄소감축사업 승인, 캄보디아와 온실가스 감축협력 본격화",
    '안전보건공단, "안전 사각지대 해소"로 제14회 아시아 로하스(ESG) 산업대전 대상 수상',
    "중대재해 발생 택배업체, 중대재해처벌법 위반 여부 엄정 수사",
    "폐자원 3개 품목 재활용 쉬워진다… 폐식용유 등 순환자원 지정 품목 확대",
    "RE100 산단 조성에 범부처 역량 총결집",
    "‘다양·공평·포용(DEI) 경영, 기업 성장의 동력으로’",
]
BODY = (
    "정부는 뿌리산업의 첨단화 및 지속 성장 체계를 구축하기 위해 작년 대비 57% 증가한 총 6,369억 원을"
    " 투자할 계획이다. 산업통상자원부(장관 안덕근, 이하 산업부)는 서면으로 개최된 제23차"
    " 뿌리산업발전위원회를 통해 이와 같은 2024년 뿌리산업 진흥 실행계획을 심의·의결하였다."
    " 이번 계획은 제3차 뿌리산업 진흥 기본계획의 연차별 실행계획으로 범부처별로 뿌리산업 육성을 위해"
    " 추진되는 연구개발(R&D), 인력·경영지원 등 다양한 지원프로그램을 총망라하여 수립되었다."
)
SEOUL = ZoneInfo("Asia/Seoul")


@dataclass
class Post:
    id: int
    title: str
    day: date
    views: int = 0
    notice: bool = False
    department: str = "산업통상자원부"
    organisation: str = "한국생산성본부"
    body: str = BODY
    attachments: list[str] = field(default_factory=list)


class EsgBoard:
    """The board's content; every method is safe to call while the server runs.

    Post ids are unique across boards (each board draws its own block), like keys on real sites.
    """

    _blocks = itertools.count()

    def __init__(self, posts: int = 3265, per_page: int = 20, notices: int = 2) -> None:
        base = 1000 + 100_000 * next(self._blocks)
        self.lock = threading.Lock()
        self.per_page = per_page
        self.today = datetime.now(SEOUL).date()
        old = self.today - timedelta(days=30)
        self.posts = [
            Post(
                base + i,
                f"{SEED_TITLES[i % len(SEED_TITLES)]} (제{i + 1}호)",
                old - timedelta(days=(posts - i) // 5),
                views=i % 97,
            )
            for i in reversed(range(posts))
        ]
        self.notices = [
            Post(
                base - 100 + i,
                f"[안내] ESG 정책뉴스 게시판 이용 안내 {i + 1}",
                old - timedelta(days=400),
                notice=True,
            )
            for i in range(notices)
        ]
        self.next_id = base + posts
        self.robots = "User-agent: *\nDisallow: /admin/\n"
        self.failures: dict[str, int] = {}  # path or "list"/"detail"/"robots" -> status
        self.requests: list[str] = []
        self.in_flight = 0  # requests being answered right now …
        self.most_in_flight = 0  # … and the most there ever were at once
        self.charset = "utf-8"
        self.declare_charset = True
        self.delay = 0.0  # seconds each list page takes, to catch a crawl in flight
        self.detail_delay = 0.0  # seconds each post page takes
        self.page_delays: dict[int, float] = {}  # list page -> seconds it takes, if not `delay`
        self.gate = threading.Event()  # list pages are answered while it is set …
        self.gate.set()  # … so a test can hold a crawl in flight for as long as it needs
        self.redesigned = False  # a layout change: the list markup no longer matches the profile
        # How other skins draw the same list: the New marker inside the link before the title
        # (KBoard), titles cut to `cut` characters with "…", dates without a year ("07-23").
        self.new_before = False
        self.cut: int | None = None
        self.year_less = False
        # Answers a hostile site gives instead of a page, by request path (or "list"/"detail"):
        # (status, headers, body); a body may be a callable that streams what it returns.
        self.raw: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.meta_charset: str | None = None  # a <meta charset> that may lie about the bytes
        self.notice_dates = True  # False: pinned notices show no date (as some skins draw them)

    def add(self, title: str | None = None, **kwargs: Any) -> Post:
        with self.lock:
            post = Post(self.next_id, title or f"새 정책뉴스 {self.next_id}", self.today, **kwargs)
            self.next_id += 1
            self.posts.insert(0, post)
            return post

    def add_many(self, n: int) -> list[Post]:
        """Publish `n` posts; returned newest first, as the board lists them."""
        return [self.add() for _ in range(n)][::-1]

    def delete(self, post_id: int) -> None:
        with self.lock:
            self.posts = [p for p in self.posts if p.id != post_id]

    def retitle(self, post_id: int, title: str) -> None:
        with self.lock:
            next(p for p in self.posts + self.notices if p.id == post_id).title = title

    def list_requests(self) -> list[str]:
        return [r for r in self.requests if "no=" not in r and r.startswith("/bbs/board.php")]

    def detail_requests(self) -> list[str]:
        return [r for r in self.requests if "no=" in r]

    # rendering

    def list_page(self, page: int) -> str:
        with self.lock:
            start = (page - 1) * self.per_page
            rows = self.posts[start : start + self.per_page]
            total = len(self.posts)
            for post in self.notices + rows:
                post.views += 1
            body = "".join(self._notice_row(p) for p in self.notices)
            body += "".join(self._row(p, total - start - i, page) for i, p in enumerate(rows))
        page_html = LIST_PAGE.format(
            charset=self._meta(), rows=body, pages=self._pager(total, page)
        )
        if self.redesigned:  # the list drawn by a script: no post link left in the HTML
            shell = self._scripted(rows)
            page_html = re.sub(r"(?s)<table.*</table>", lambda _: shell, page_html)
        return page_html

    def _scripted(self, rows: list[Post]) -> str:
        data = ",".join(f'{{"id":{p.id},"day":"{p.day.isoformat()}"}}' for p in rows)
        return f'<div id="news-app"></div><script>renderNews([{data}]);</script>'

    def _meta(self) -> str:
        if self.meta_charset:
            return f'<meta charset="{self.meta_charset}">'
        return f'<meta charset="{self.charset}">' if self.declare_charset else ""

    def _row(self, post: Post, number: int, page: int) -> str:
        fresh = post.day == self.today
        title = post.title
        if self.cut and len(title) > self.cut:
            title = title[: self.cut] + "…"
        title = html.escape(title)
        if fresh and self.new_before:
            title = f'<span class="kboard-default-new-notify">New</span> {title}'
        row = ROW.format(
            num=number,
            id=post.id,
            page=page,
            title=title,
            new=' <span class="new_icon">New</span>' if fresh and not self.new_before else "",
            day=post.day.strftime("%m-%d") if self.year_less else post.day.isoformat(),
            views=f"{post.views:,}",
        )
        return row

    def _notice_row(self, post: Post) -> str:
        return NOTICE_ROW.format(
            id=post.id,
            title=html.escape(post.title),
            day=post.day.isoformat() if self.notice_dates else "",
            views=f"{post.views:,}",
        )

    def _pager(self, total: int, page: int) -> str:
        last = max(1, -(-total // self.per_page))
        links = range(max(1, page - 4), min(last, page + 5) + 1)
        return "".join(
            f'<a href="./board.php?bo_table=esg_news&amp;page={n}">{n}</a>' for n in links
        )

    def detail_page(self, post_id: int) -> str | None:
        with self.lock:
            post = next((p for p in self.posts + self.notices if p.id == post_id), None)
            if post is None:
                return None
            post.views += 1
            files = "".join(
                f'<li><a href="./download.php?bo_table=esg_news&amp;no={post.id}&amp;file={i}">'
                f"{html.escape(name)}</a></li>"
                for i, name in enumerate(post.attachments)
            )
            return DETAIL_PAGE.format(
                charset=self._meta(),
                title=html.escape(post.title),
                dept=html.escape(post.department),
                org=html.escape(post.organisation),
                views=post.views,
                mmdd=post.day.strftime("%m-%d"),
                body=html.escape(post.body),
                ymd=post.day.strftime("%Y.%m.%d"),
                id=post.id,
                files=f'<div class="view_file"><ul>{files}</ul></div>' if files else "",
            )


LIST_PAGE = """<!DOCTYPE html>
<html lang="ko"><head>{charset}<title>ESG 정책뉴스 | 게시판</title></head>
<body>
<div id="container"><h2 class="board_title">ESG 정책뉴스</h2>
<div class="tbl_head01 tbl_wrap">
<table class="board_list">
<caption>ESG 정책뉴스 목록</caption>
<thead><tr><th scope="col">번호</th><th scope="col">제목</th><th scope="col">글쓴이</th>
<th scope="col">날짜</th><th scope="col">조회수</th></tr></thead>
<tbody>
{rows}</tbody>
</table></div>
<nav class="pg_wrap">{pages}</nav>
</div></body></html>
"""
NOTICE_ROW = """<tr class="bo_notice">
<td class="td_num"><strong class="notice_icon">공지</strong></td>
<td class="td_subject"><a href="./board.php?bo_table=esg_news&amp;no={id}&amp;page=1">{title}</a></td>
<td class="td_name">총괄관리자</td><td class="td_date">{day}</td><td class="td_hit">{views}</td>
</tr>
"""
ROW = """<tr>
<td class="td_num">{num}</td>
<td class="td_subject"><a href="./board.php?bo_table=esg_news&amp;no={id}&amp;page={page}">{title}</a>{new}</td>
<td class="td_name">총괄관리자</td><td class="td_date">{day}</td><td class="td_hit">{views}</td>
</tr>
"""
DETAIL_PAGE = """<!DOCTYPE html>
<html lang="ko"><head>{charset}<title>{title} | ESG 정책뉴스</title></head>
<body><div id="container"><article class="view_wrap">
<h2 class="view_title">{title}</h2>
<p class="view_dept">담당부서 : {dept}</p>
<ul class="view_info"><li class="writer">{org}</li><li class="comment">0</li><li class="hit">{views}</li>
<li>0</li><li>0</li><li><a href="#" class="btn_print">Print</a></li><li>상태: 노출</li><li class="date">{mmdd}</li></ul>
<div class="view_content"><p>{body}</p>
<p>&nbsp;</p><p>({ymd} {dept})</p>
<p><a href="https://www.korea.kr/briefing/pressReleaseView.do?newsId={id}" target="_blank">https://www.korea.kr/briefing/pressReleaseView.do?newsId={id}</a></p>
</div>
{files}
</article></div></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    board: EsgBoard
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

    def do_GET(self) -> None:
        board = self.server.board  # type: ignore[attr-defined]
        with board.lock:
            board.in_flight += 1
            board.most_in_flight = max(board.most_in_flight, board.in_flight)
        try:
            self._answer(board)
        finally:
            with board.lock:
                board.in_flight -= 1

    def _answer(self, board: EsgBoard) -> None:
        board.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        kind = "robots" if parts.path == "/robots.txt" else ("detail" if "no" in query else "list")
        raw = board.raw.get(self.path) or board.raw.get(kind)
        if raw is not None:
            return self._raw(*raw)
        status = board.failures.get(kind) or board.failures.get(self.path)
        if status:
            return self._send(status, "<html><body>error</body></html>", board)
        if kind == "robots":
            return self._send(200, board.robots, board, "text/plain")
        if parts.path != "/bbs/board.php":
            return self._send(404, "<html><body>not found</body></html>", board)
        if kind == "detail":
            time.sleep(board.detail_delay)
            page = board.detail_page(int(query["no"]))
            return self._send(200 if page else 404, page or "not found", board)
        page = int(query.get("page", "1"))
        board.gate.wait(60)
        time.sleep(board.page_delays.get(page, board.delay))
        return self._send(200, board.list_page(page), board)

    def _raw(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up on it: what a size cap does
            self.wfile.write(body)

    def _send(self, status: int, text: str, board: EsgBoard, kind: str = "text/html") -> None:
        body = text.encode(board.charset)
        self.send_response(status)
        charset = f"; charset={board.charset}" if board.declare_charset else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(QuietServer):
    request_queue_size = 256  # many crawlers connect at once; the default backlog is 5


class BoardServer:
    """`with BoardServer(EsgBoard()) as server: server.list_url`"""

    def __init__(self, board: EsgBoard) -> None:
        self.board = board
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.board = board  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def list_url(self) -> str:
        return f"{self.base}/bbs/board.php?bo_table=esg_news&page=1"

    def __enter__(self) -> BoardServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
