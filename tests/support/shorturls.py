"""A local board of the gnuboard5 kind whose links change form with a site setting, the way
gnuboard5's short URLs do: `board.php?bo_table=free&wr_id=49` (off), `/free/49` (numeric),
`/free/title-slug/` (title). A title slug is rebuilt from the title on every edit; the old
slug then answers 200 with a "no such post" alert, as the engine does. Each post's own page
carries its id in its comment form and its reply link, and links to its neighbours by slug.

Markup of our own, in the engine's manner: a table read by its header labels.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.support.serving import LocalServer, PageHandler

if TYPE_CHECKING:
    from tests.support.mail import SmtpSink

Form = Literal["query", "numeric", "title"]


@dataclass
class Article:
    id: int
    title: str
    day: date
    slug: str = ""


def slugify(title: str) -> str:
    """The first eight words, lowercased, punctuation dropped, joined by hyphens."""
    words = re.sub(r"[^\w\s-]", "", title.lower()).split()[:8]
    return "-".join(words) or "post"


class ShortUrlBoard:
    """The board's content and link form; safe to change while the server runs."""

    def __init__(self, posts: int = 49, per_page: int = 15) -> None:
        self.lock = threading.Lock()
        self.form: Form = "query"
        self.per_page = per_page
        self.today = datetime.now(ZoneInfo("Asia/Seoul")).date()
        self.articles: list[Article] = []
        self.next_id = 1
        self.requests: list[str] = []
        self.down: set[str] = set()  # slugs whose post page drops the connection unanswered
        self.host: str | None = None  # links name this host (the site under another name)
        self.claims: dict[int, int] = {}  # post id -> the id its page carries (a confused page)
        for i in range(1, posts + 1):
            self.write(f"자유게시판 글 {i}번 안내", self.today - timedelta(days=posts - i))

    def write(self, title: str, day: date | None = None) -> Article:
        with self.lock:
            post = Article(self.next_id, title, day or self.today)
            self.next_id += 1  # as engines do: an id is never given twice
            post.slug = self._free_slug(title)
            self.articles.insert(0, post)
            return post

    def edit(self, post_id: int, title: str) -> Article:
        with self.lock:
            post = next(p for p in self.articles if p.id == post_id)
            post.title, post.slug = title, ""
            post.slug = self._free_slug(title)
            return post

    def _free_slug(self, title: str) -> str:
        base, taken = slugify(title), {p.slug for p in self.articles}
        slug, n = base, 0
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def link(self, post: Article) -> str:
        site = f"http://{self.host}" if self.host else ""
        if self.form == "query":
            return f"{site}/bbs/board.php?bo_table=free&amp;wr_id={post.id}"
        if self.form == "numeric":
            return f"{site}/free/{post.id}"
        return f"{site}/free/{quote(post.slug)}/"

    def find(self, path: str, query: dict[str, str]) -> Article | None:
        with self.lock:
            if "wr_id" in query:
                return next((p for p in self.articles if str(p.id) == query["wr_id"]), None)
            rest = unquote(path).removeprefix("/free/").rstrip("/")
            return next((p for p in self.articles if rest in (str(p.id), p.slug)), None)

    def list_page(self, page: int) -> str:
        with self.lock:
            start = (page - 1) * self.per_page
            shown = self.articles[start : start + self.per_page]
            rows = "".join(
                ROW.format(
                    num=len(self.articles) - start - i,
                    href=self.link(post),
                    title=html.escape(post.title),
                    day=post.day.isoformat(),
                )
                for i, post in enumerate(shown)
            )
        return LIST.format(rows=rows)

    def post_page(self, post: Article) -> str:
        with self.lock:
            at = self.articles.index(post)
            near = [self.articles[i] for i in (at - 1, at + 1) if 0 <= i < len(self.articles)]
            nav = "".join(
                f'<li><a href="{self.link(p)}">{html.escape(p.title)}</a></li>' for p in near
            )
        said = self.claims.get(post.id, post.id)
        return POST.format(
            id=said, title=html.escape(post.title), day=post.day.isoformat(), nav=nav
        )


LIST = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>자유게시판 | 우리 동네</title></head><body>
<div id="bo_list"><form name="fboardlist" method="post">
<table><caption>자유게시판 목록</caption>
<thead><tr><th>번호</th><th>제목</th><th>글쓴이</th><th>날짜</th><th>조회</th></tr></thead>
<tbody>{rows}</tbody></table></form></div></body></html>"""
ROW = """<tr><td class="num">{num}</td>
<td class="subject"><div class="tit"><a href="{href}">{title}</a></div></td>
<td class="writer">운영자</td><td class="date">{day}</td><td class="hit">3</td></tr>"""
POST = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>{title} &gt; 자유게시판 | 우리 동네</title></head><body>
<article id="bo_v"><header><h2 class="subject">{title}</h2></header>
<section class="info"><span class="writer">운영자</span><span class="date">{day}</span></section>
<div id="bo_v_con"><p>{title} — 본문입니다.</p></div>
<ul class="btns"><li><a href="/free/write?w=r&amp;wr_id={id}">답변</a></li>
<li><a href="/free">목록</a></li></ul>
<ul class="bo_v_nb">{nav}</ul>
<form name="fviewcomment" action="/bbs/write_comment_update.php" method="post">
<input type="hidden" name="w" value="c"><input type="hidden" name="bo_table" value="free">
<input type="hidden" name="wr_id" value="{id}"><textarea name="wr_content"></textarea>
</form></article></body></html>"""
GONE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>alert("글이 존재하지 않습니다.\\n\\n글이 삭제되었거나 이동된 경우입니다.");
history.back();</script></body></html>"""


class _Handler(PageHandler):
    def do_GET(self) -> None:
        board: ShortUrlBoard = self.server.board  # type: ignore[attr-defined]
        board.requests.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/robots.txt":
            return self.send_page(404, "")
        listing = parts.path in ("/free", "/bbs/board.php") and "wr_id" not in query
        if listing:
            return self.send_page(200, board.list_page(int(query.get("page", "1"))))
        if parts.path.startswith("/free/") or "wr_id" in query:
            post = board.find(parts.path, query)
            if post is not None and post.slug in board.down:
                self.close_connection = True  # no answer at all: a timeout, a dropped line
                return None
            return self.send_page(200, board.post_page(post) if post else GONE)
        return self.send_page(404, "<html><body>not found</body></html>")


class ShortUrlServer(LocalServer):
    """`with ShortUrlServer(ShortUrlBoard()) as server: server.list_url`"""

    def __init__(self, board: ShortUrlBoard) -> None:
        super().__init__(_Handler, board=board)
        self.board = board

    @property
    def list_url(self) -> str:
        return f"{self.base}/bbs/board.php?bo_table=free"


def free_board(server: ShortUrlServer, smtp: SmtpSink) -> str:
    """The short-URL board watched by a plain subscriber and one who asked for updates."""
    return f"""
timezone = "Asia/Seoul"
[crawl]
retries = 0
[[boards]]
name = "free"
title = "자유게시판"
url = "{server.list_url}"
profile = "gnuboard"
max_pages = 4
[[subscribers]]
name = "plain"
urls = ["{smtp.url("plain@example.com")}"]
[[subscribers]]
name = "updates"
urls = ["{smtp.url("updates@example.com")}"]
include_updates = true
"""
