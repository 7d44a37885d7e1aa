"""The starter config `scrape init URL` writes: the board named after its title, in ASCII."""

from __future__ import annotations

import pytest

from scheduler.config.starter import slug, starter, starter_for

# A board's title as its page shows it, and the name `init` gives the board.
TITLES = [
    ("ESG 정책뉴스", "esg-jeongchaeknyuseu"),
    ("공지사항", "gongjisahang"),
    ("자유게시판", "jayugesipan"),
    ("보도자료 (2024)", "bodojaryo-2024"),
    ("Q&A", "q-a"),
    ("Notice Board", "notice-board"),
    ("ＥＳＧ 뉴스", "esg-nyuseu"),  # full-width letters as the ASCII they stand for
    ("읽기·닭", "ikgi-dak"),  # double finals
    (
        "꿀팁 노하우 공유 게시판입니다 여기는 아주 긴 제목",
        "kkultip-nohau-gongyu-gesipanipnida",
    ),  # ≤ 40
    ("お知らせ", ""),  # nothing to spell in ASCII: the caller names it from its address
    ("", ""),
]


@pytest.mark.parametrize(("title", "name"), TITLES, ids=[t or "(none)" for t, _ in TITLES])
def test_a_board_is_named_after_its_title(title: str, name: str) -> None:
    assert slug(title) == name


def test_init_names_the_board_after_its_title_else_its_address() -> None:
    url = "https://example.or.kr/bbs/board.php?bo_table=notice"
    titled = starter_for(starter(), url, "gnuboard", "공지사항")
    assert 'name = "gongjisahang"' in titled and 'title = "공지사항"' in titled
    assert 'boards = ["gongjisahang"]' in titled
    untitled = starter_for(starter(), url, "gnuboard", "お知らせ")
    assert 'name = "notice"' in untitled and 'title = "お知らせ"' in untitled
