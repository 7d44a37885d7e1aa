"""A local board of the eGovFrame kind whose title links are scripts: `javascript:void(0)` with
the ids in `onclick`. Its post pages live at `/cop/bbs/selectArticleDetail.do`, not at the
family's usual `selectBoardArticle.do`; the list page's own script says so (a function that fills
a form and submits it there) — or, with `script_inline = False`, says nothing (the function sits
in a .js file), so the address can only be guessed. A wrong guess answers 404, or with
`wrong_answers = 200` an ordinary page that is not the post.

Markup of our own, in the family's manner.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.support.serving import LocalServer, PageHandler

BBS = "BBSMSTR_000000000077"


@dataclass
class Notice:
    id: int
    title: str
    day: date
    department: str = "기후정책과"


class EgovBoard:
    def __init__(self, posts: int = 12) -> None:
        self.lock = threading.Lock()
        self.today = datetime.now(ZoneInfo("Asia/Seoul")).date()
        self.notices = [
            Notice(500 + i, f"기후 정책 알림 {i}호", self.today - timedelta(days=posts - i))
            for i in range(posts)
        ][::-1]
        self.script_inline = True
        self.wrong_answers = 404
        self.requests: list[str] = []

    def add(self, title: str) -> Notice:
        with self.lock:
            post = Notice(self.notices[0].id + 1, title, self.today)
            self.notices.insert(0, post)
            return post

    def list_page(self) -> str:
        with self.lock:
            rows = "".join(
                ROW.format(
                    n=len(self.notices) - i,
                    id=p.id,
                    bbs=BBS,
                    title=html.escape(p.title),
                    day=p.day.isoformat(),
                )
                for i, p in enumerate(self.notices)
            )
        script = SCRIPT if self.script_inline else '<script src="/js/board.js"></script>'
        return LIST.format(script=script, rows=rows, bbs=BBS)

    def post_page(self, ntt_id: str) -> str | None:
        with self.lock:
            post = next((p for p in self.notices if str(p.id) == ntt_id), None)
        if post is None:
            return None
        return POST.format(
            title=html.escape(post.title), dept=post.department, day=post.day.isoformat()
        )


LIST = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>알림마당</title>
{script}</head><body>
<form name="articleForm" action="/cop/bbs/selectArticleList.do" method="post">
<input type="hidden" name="bbsId" value="{bbs}"><input type="hidden" name="nttId" value="">
<input type="hidden" name="pageIndex" value="1">
<table class="tbl_list"><thead><tr><th>번호</th><th>제목</th><th>부서</th><th>등록일</th></tr></thead>
<tbody>{rows}</tbody></table></form></body></html>"""
SCRIPT = """<script>
function fn_egov_select_linkPage(pageNo) {
    document.articleForm.pageIndex.value = pageNo;
    document.articleForm.action = "/cop/bbs/selectArticleList.do";
    document.articleForm.submit();
}
function fn_egov_inquire_articledetail(bbsId, nttId) {
    document.articleForm.bbsId.value = bbsId;
    document.articleForm.nttId.value = nttId;
    document.articleForm.action = "/cop/bbs/selectArticleDetail.do";
    document.articleForm.submit();
}
</script>"""
ROW = """<tr><td>{n}</td><td class="subject"><a href="javascript:void(0);"
onclick="fn_egov_inquire_articledetail('{bbs}','{id}'); return false;">{title}</a></td>
<td>기후정책과</td><td>{day}</td></tr>"""
POST = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="board_view"><h3>{title}</h3>
<table><tr><th>담당부서</th><td>{dept}</td><th>등록일</th><td>{day}</td></tr></table>
<div class="cont"><p>{title}에 관한 안내입니다. 자세한 내용은 첨부를 확인하세요.</p></div>
</div></body></html>"""
ELSEWHERE = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>알림마당</title>
</head><body><p>요청하신 페이지를 찾을 수 없습니다.</p></body></html>"""


class _Handler(PageHandler):
    def do_GET(self) -> None:
        board: EgovBoard = self.server.board  # type: ignore[attr-defined]
        board.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/cop/bbs/selectArticleList.do":
            return self.send_page(200, board.list_page())
        if parts.path == "/cop/bbs/selectArticleDetail.do" and query.get("bbsId") == BBS:
            page = board.post_page(query.get("nttId", ""))
            return self.send_page(200 if page else 404, page or ELSEWHERE)
        if parts.path == "/cop/bbs/selectBoardArticle.do":
            return self.send_page(board.wrong_answers, ELSEWHERE)
        return self.send_page(404, ELSEWHERE)


class EgovServer(LocalServer):
    def __init__(self, board: EgovBoard) -> None:
        super().__init__(_Handler, board=board)
        self.board = board

    @property
    def list_url(self) -> str:
        return f"{self.base}/cop/bbs/selectArticleList.do?bbsId={BBS}&pageIndex=1"
