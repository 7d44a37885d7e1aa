"""A local board in the manner of a public agency's CMS: a menu number names the board
(`/board/list.do?menuNo=200301`) and the pager turns pages by a parameter no built-in profile
knows (`cpage` by default; `board_page` with `mode=list` as WordPress MangBoard does). A page
parameter the board does not know is ignored: it serves page 1, as such sites do.

It can also name another site, the way a hostile or careless page would: a row whose script
sends the reader to another origin, a post page that redirects there, a post page whose
canonical address is there. `Elsewhere` is that other site: it records every request it gets.

Markup of our own, in such CMSs' manner (a table read by its header labels).
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.support.serving import LocalServer, PageHandler

MENU = "200301"
SECRET = "내부 전용 문서: 외부 발송 금지"  # the other site's text, which must reach no digest
Offsite = Literal["script", "redirect", "canonical"]


@dataclass
class Notice:
    id: int
    title: str
    day: date


class AgencyBoard:
    """The board's content; safe to change while the server runs."""

    def __init__(
        self, posts: int = 33, per_page: int = 10, param: str = "cpage", extra: str = ""
    ) -> None:
        self.lock = threading.Lock()
        self.per_page, self.param, self.extra = per_page, param, extra
        self.today = datetime.now(ZoneInfo("Asia/Seoul")).date()
        self.posts: list[Notice] = []
        self.next_id = 8001
        self.requests: list[str] = []
        self.script_pager = False  # the pager calls a function defined in a .js file
        self.offsite: dict[int, Offsite] = {}  # post id -> how its page names another site
        self.elsewhere = ""  # that site's address (http://127.0.0.1:PORT)
        for n in range(posts):
            self.add(f"보도자료 {n + 1}호 안내", self.today - timedelta(days=posts - n))

    def add(self, title: str, day: date | None = None) -> Notice:
        with self.lock:
            post = Notice(self.next_id, title, day or self.today)
            self.next_id += 1
            self.posts.insert(0, post)
            return post

    def add_many(self, n: int, title: str = "새 보도자료") -> list[Notice]:
        """Publish `n` posts; returned newest first, as the board lists them."""
        return [self.add(f"{title} {i + 1}") for i in range(n)][::-1]

    def list_url(self, base: str) -> str:
        extra = f"&{self.extra}" if self.extra else ""
        return f"{base}/board/list.do?menuNo={MENU}{extra}"

    def list_page(self, page: int) -> str:
        with self.lock:
            last = max(1, -(-len(self.posts) // self.per_page))
            page = page if 1 <= page <= last else 1
            start = (page - 1) * self.per_page
            rows = "".join(
                self._row(post, len(self.posts) - start - i)
                for i, post in enumerate(self.posts[start : start + self.per_page])
            )
            pager = self._pager(page, last)
        script = '<script src="/js/paging.js"></script>' if self.script_pager else ""
        functions = SCRIPT.format(elsewhere=self.elsewhere) if self.offsite else ""
        return LIST.format(rows=rows, pager=pager, script=script + functions)

    def _row(self, post: Notice, number: int) -> str:
        if self.offsite.get(post.id) == "script":
            link = f'<a href="#none" onclick="fnOpen(\'{post.id}\'); return false;">'
        else:
            link = f'<a href="/board/view.do?menuNo={MENU}&amp;boardNo={post.id}">'
        title = html.escape(post.title)
        return ROW.format(num=number, link=link, title=title, day=post.day.isoformat())

    def _pager(self, page: int, last: int) -> str:
        first = (page - 1) // 10 * 10 + 1
        parts = []
        for n in range(first, min(first + 9, last) + 1):
            if n == page:
                parts.append(f'<strong class="on">{n}</strong>')
            elif self.script_pager:
                parts.append(f'<a href="#none" onclick="goPage({n});return false;">{n}</a>')
            else:
                parts.append(f'<a href="{self._page_href(n)}">{n}</a>')
        if page < last:
            href = "#none" if self.script_pager else self._page_href(page + 1)
            parts.append(f'<a href="{href}" class="btn-next"><span class="blind">다음</span></a>')
        return "\n".join(parts)

    def _page_href(self, n: int) -> str:
        extra = f"&amp;{self.extra}" if self.extra else ""
        return f"/board/list.do?menuNo={MENU}{extra}&amp;{self.param}={n}"

    def post_page(self, post_id: int) -> str | None:
        with self.lock:
            post = next((p for p in self.posts if p.id == post_id), None)
        if post is None:
            return None
        canonical = ""
        if self.offsite.get(post_id) == "canonical":
            other = f"{self.elsewhere}/board/view.do?menuNo={MENU}&amp;boardNo=999999"
            canonical = (
                f'<link rel="canonical" href="{other}"><meta property="og:url" content="{other}">'
            )
        return POST.format(title=html.escape(post.title), day=post.day, head=canonical)


LIST = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>보도자료 | 기관</title>
{script}</head><body><div id="contents"><h3 class="tit">보도자료</h3>
<table class="board-list"><caption>보도자료 목록</caption>
<thead><tr><th>번호</th><th>제목</th><th>담당부서</th><th>등록일</th><th>조회</th></tr></thead>
<tbody>{rows}</tbody></table>
<div class="board-paging">{pager}</div></div></body></html>"""
ROW = """<tr><td>{num}</td><td class="subject">{link}{title}</a></td>
<td>대변인실</td><td>{day}</td><td>12</td></tr>"""
SCRIPT = """<script>
function fnOpen(id) {{ location.href = "{elsewhere}/view.do?nttId=" + id; }}
</script>"""
POST = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>{title} | 보도자료</title>
{head}</head><body><div class="board-view"><h3>{title}</h3>
<table><tr><th>담당부서</th><td>대변인실</td><th>등록일</th><td>{day}</td></tr></table>
<div class="view_cont"><p>{title}에 관한 보도자료 본문입니다.</p></div></div></body></html>"""


class _Handler(PageHandler):
    def do_GET(self) -> None:
        board: AgencyBoard = self.server.board  # type: ignore[attr-defined]
        board.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/board/list.do":
            page = query.get(board.param, "1")
            return self.send_page(200, board.list_page(int(page) if page.isdigit() else 1))
        if parts.path == "/board/view.do" and query.get("boardNo", "").isdigit():
            post_id = int(query["boardNo"])
            if board.offsite.get(post_id) == "redirect":
                return self.send_redirect(f"{board.elsewhere}/view.do?nttId={post_id}")
            post = board.post_page(post_id)
            return self.send_page(200 if post else 404, post or NOT_FOUND)
        return self.send_page(404, NOT_FOUND)


NOT_FOUND = "<html><body>요청하신 페이지를 찾을 수 없습니다.</body></html>"


class AgencyServer(LocalServer):
    """`with AgencyServer(AgencyBoard()) as server: server.list_url`"""

    def __init__(self, board: AgencyBoard) -> None:
        super().__init__(_Handler, board=board)
        self.board = board

    @property
    def list_url(self) -> str:
        return self.board.list_url(self.base)


class _Recorder(PageHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        body = f"<html><head><title>{SECRET}</title></head><body><div class='view_cont'>"
        self.send_page(200, body + f"<p>{SECRET}</p></div></body></html>")


class Elsewhere(LocalServer):
    """Another site (an internal one, say): every request it gets is recorded in `requests`."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(_Recorder, requests=self.requests)
