"""Lists that are not tables, and what is not a list of this board's posts: a site menu, a
pager, another board's "latest posts" widget. Markup written here, in the manner of card skins."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from parsel import Selector

from scraper.parse import ListPage, read_list
from scraper.profiles import BUILTIN

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Seoul"))
LIST = "https://agency.example.kr/news/list.do?bbsId=B0000011"


def read(body: str, url: str = LIST, profile: str = "auto") -> ListPage:
    page = f'<html><head><meta charset="utf-8"><title>보도자료</title></head><body>{body}</body></html>'
    return read_list(Selector(text=page), url, BUILTIN[profile], NOW)


def cards(n: int, card: str) -> str:
    return (
        '<ul class="bbs-card">' + "".join(card.format(i=i, id=3300 + i) for i in range(n)) + "</ul>"
    )


PLAIN = (
    '<li><a href="/news/view.do?bbsId=B0000011&amp;nttId={id}"><strong class="tit">보도자료 {i}'
    '</strong></a><span class="date">2026.11.2{i}</span></li>'
)
MENU = (
    '<ul class="lnb">'
    + "".join(f'<li><a href="/news/list.do?menuNo=20001{i}">메뉴 {i}</a></li>' for i in range(6))
    + "</ul>"
)
PAGER = (
    '<ul class="paging">'
    + "".join(f'<li><a href="/news/list.do?pageNo={n}">{n}</a></li>' for n in range(1, 11))
    + "</ul>"
)


def test_a_card_list_beside_a_longer_menu_and_pager_is_the_list() -> None:
    page = read(MENU + cards(4, PLAIN) + PAGER)
    assert [s.title for s in page.skims] == [f"보도자료 {i}" for i in range(4)]
    assert [r["date"] for r in page.rows] == [date(2026, 11, 20 + i) for i in range(4)]


def test_a_menu_alone_is_no_list_of_posts() -> None:
    assert read(MENU + '<ul class="bbs-card"><li>등록된 게시물이 없습니다.</li></ul>').skims == []


def test_another_boards_latest_posts_are_not_this_boards() -> None:
    widget = (
        '<div class="latest"><ul>'
        + "".join(
            f'<li><a href="/news/view.do?bbsId=B0000099&amp;nttId={n}">다른 게시판 {n}</a>'
            f'<span class="date">11-2{n}</span></li>'
            for n in range(1, 6)
        )
        + "</ul></div>"
    )
    assert [s.key.value for s in read(cards(2, PLAIN) + widget).skims] == ["3300", "3301"]
    assert read(widget).skims == []  # a new, empty board: none of the widget's posts


def test_a_cards_title_is_its_heading_not_a_date_badge_a_category_or_an_emphasised_word() -> None:
    badge = (
        '<li><a href="/news/view.do?bbsId=B0000011&amp;nttId={id}"><div class="date-box">'
        "<strong>1{i}</strong><span>2026.11</span></div><p>탄소중립 행사 {i}</p></a></li>"
    )
    category = (
        '<li><a href="/news/view.do?bbsId=B0000011&amp;nttId={id}"><b>[보도자료]</b> 탄소중립 행사 '
        '{i}</a> <span class="date">2026.11.1{i}</span></li>'
    )
    emphasis = (
        '<li><a href="/news/view.do?bbsId=B0000011&amp;nttId={id}">2026 <strong>탄소중립</strong> '
        '행사 {i}</a> <span class="date">2026.11.1{i}</span></li>'
    )
    assert [s.title for s in read(cards(3, badge)).skims] == [
        f"탄소중립 행사 {i}" for i in range(3)
    ]
    assert [s.title for s in read(cards(3, category)).skims] == [
        f"탄소중립 행사 {i}" for i in range(3)
    ]
    assert [s.title for s in read(cards(3, emphasis)).skims] == [
        f"2026 탄소중립 행사 {i}" for i in range(3)
    ]


def test_an_icon_whose_words_say_new_is_a_new_marker_and_a_thumbnails_title_is_not() -> None:
    row = (
        "<table><thead><tr><th>번호</th><th>제목</th><th>날짜</th></tr></thead><tbody>"
        '<tr><td>2</td><td><a href="/b/view?idx=2"><img src="/thumb/2.jpg" alt="새 글 N 모음">'
        '새 글 N 모음</a> <img src="/img/i_2.gif" alt="새글 아이콘"></td><td>2026-12-02</td></tr>'
        '<tr><td>1</td><td><a href="/b/view?idx=1">지난 글</a></td><td>2026-11-02</td></tr>'
        "</tbody></table>"
    )
    first, second = read(row, url="https://x.example/b/list").rows
    assert (first["title"], first["new_marker"]) == ("새 글 N 모음", True)
    assert second["new_marker"] is False
