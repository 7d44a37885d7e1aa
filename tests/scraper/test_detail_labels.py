"""A post page's labelled details — 담당부서 in every way pages lay a label beside its value —
read as the value alone, never with the next label or its value."""

from __future__ import annotations

import pytest
from parsel import Selector

from scraper.detail import read_detail
from scraper.items import Row
from scraper.profiles import BUILTIN

ROW = Row(
    key="1",
    number=None,
    title="행사 안내",
    url="https://x.example/view?id=1",
    author=None,
    date=None,
    views=None,
    new_marker=False,
    notice=False,
)
PAGES = {
    "eGov table, two pairs a row": """<div class="board_view"><table>
        <tr><th>제목</th><td colspan="3">행사 안내</td></tr>
        <tr><th>담당부서</th><td>운영지원과</td><th>등록일</th><td>2026-12-02</td></tr>
        <tr><th>조회수</th><td>12</td><th>첨부</th><td>없음</td></tr></table>
        <div class="view_cont"><p>행사를 안내합니다.</p></div></div>""",
    "definition list": """<div class="view"><dl class="info"><dt>작성자</dt><dd>홍길동</dd>
        <dt>담당부서</dt><dd>운영지원과</dd><dt>등록일</dt><dd>2026.12.02</dd></dl>
        <div class="view_text">행사를 안내합니다.</div></div>""",
    "strong label in a list item": """<ul class="view_info"><li><strong>담당부서</strong> 운영지원과</li>
        <li><strong>등록일</strong> 2026-12-02</li></ul><div class="view_cont">행사를 안내합니다.</div>""",
    "labels side by side in one paragraph": """<p class="meta"><strong>담당부서</strong> : 운영지원과
        <strong>전화</strong> 02-123-4567</p><div class="view_cont">행사를 안내합니다.</div>""",
    "label : value text": """<div class="view"><p class="dept">담당 부서 : 운영지원과 | 등록일 2026-12-02</p>
        <div class="view_cont">행사를 안내합니다.</div></div>""",
    "label with a colon in its cell": """<table><tr><th>담당부서 :</th><td> 운영지원과 </td>
        <th>연락처</th><td>02-123-4567</td></tr></table><div class="view_cont">행사</div>""",
}


@pytest.mark.parametrize("layout", PAGES)
def test_the_department_is_the_value_alone(layout: str) -> None:
    root = Selector(text=f"<html><body>{PAGES[layout]}</body></html>")
    details = read_detail(root, ROW["url"], BUILTIN["auto"], ROW)
    assert details is not None and details["department"] == "운영지원과"


SECRET_PAGES = {  # what a visitor gets for a secret post: a password prompt in its place
    "gnuboard-style": """<div id="pw_confirm" class="mbskin"><h1>비밀글 문의드립니다</h1>
        <p><strong>비밀글 기능으로 보호된 글입니다.</strong> 작성자와 관리자만 열람하실 수 있습니다.
        본인이라면 비밀번호를 입력하세요.</p>
        <form name="fboardpassword" action="/bbs/password_check.php" method="post">
        <input type="hidden" name="w" value="s"><input type="hidden" name="wr_id" value="8">
        <input type="password" name="wr_password" placeholder="비밀번호"><button>확인</button>
        </form></div>""",
    "kboard-style": """<div id="kboard-document"><div class="kboard-password">
        <form method="post" action="/?page_id=5&amp;mod=document&amp;uid=8">
        <p>비밀번호를 입력해 주세요.</p><input type="password" name="password" placeholder="비밀번호...">
        <button type="submit">확인</button></form></div></div>""",
}


@pytest.mark.parametrize("engine", SECRET_PAGES)
def test_a_secret_posts_password_prompt_is_no_summary(engine: str) -> None:
    root = Selector(text=f"<html><body>{SECRET_PAGES[engine]}</body></html>")
    assert read_detail(root, ROW["url"], BUILTIN["auto"], ROW) is None


def test_a_post_with_a_comment_form_asking_a_password_is_still_read() -> None:
    page = """<div class="xe_content">행사를 안내합니다.</div><form action="/" id="write_comment">
        <textarea name="content"></textarea><input type="password" name="password"></form>"""
    details = read_detail(Selector(text=page), ROW["url"], BUILTIN["xe"], ROW)
    assert details is not None and details["summary"] == "행사를 안내합니다."
