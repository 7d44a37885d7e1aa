"""A family is one record: what the generic readers know of the engines is pooled from the
built-in profiles, and reads exactly as the tables it replaced did (`auto` and `probe` read any
board as before)."""

from __future__ import annotations

import re
from typing import get_type_hints

import pytest
from parsel import Selector

from scraper import cards, detail, keys, parse, profiles, tables, text
from scraper.parse import compiled
from scraper.profiles import BUILTIN, ID_FIELD_ORDER, Profile, pooled

# The tables as they stood before the families held them (#21).
ID_PARAMS_BEFORE = (
    "wr_id",
    "document_srl",
    "uid",
    "nttid",
    "nttsn",
    "no",
    "newsid",
    "idx",
    "seq",
    "articleno",
    "article_no",
    "articleseq",
    "boardseq",
    "board_seq",
    "bbs_seq",
    "post_id",
    "num",
    "id",
    "p",
)
NOT_ID_PARAMS_BEFORE = frozenset(
    [
        "page",
        "pageindex",
        "pageid",
        "page_id",
        "cpage",
        "npage",
        "pagesize",
        "pageunit",
        "sst",
        "sod",
        "sop",
        "spt",
        "sfl",
        "stx",
        "sca",
        "category",
        "cate",
        "mid",
        "menuid",
        "menu_id",
        "bbsid",
        "bo_table",
        "year",
        "month",
        "tab",
        "cwin",
    ]
)
LABELS_BEFORE = {
    "number": ("번호", "no", "num", "number", "순번", "연번", "글번호"),
    "title": ("제목", "title", "subject", "글제목", "게시물제목"),
    "author": (
        "글쓴이",
        "작성자",
        "등록자",
        "이름",
        "작성",
        "author",
        "writer",
        "name",
        "postedby",
    ),
    "date": (
        "작성일",
        "등록일",
        "날짜",
        "date",
        "작성일자",
        "등록일자",
        "게시일",
        "일자",
        "posted",
        "게시시작일",
    ),
    "views": ("조회", "조회수", "hit", "hits", "views", "view", "readcount", "읽음"),
}
HIDDEN_BEFORE = frozenset(
    [
        "sound_only",
        "blind",
        "sr-only",
        "screen_out",
        "visually-hidden",
        "hidden",
        "hide",
        "mobile",
        "m_only",
        "mobile-only",
        "visible-xs",
        "skip",
        "sv",
        "sv_nojs",
        "dropdown-menu",
        "kboard-mobile-contents",
    ]
)
BODY_BEFORE = (
    "#bo_v_con, .view_content, .view-body, .view_cont, .xe_content, .rd_body, "
    ".kboard-content, td.cont, .board_view .cont, .bbs_view .view_text, .view_text"
)
FILES_BEFORE = (
    "a[href*='download.php'], a[href*='download.do'], a[href*='fileDown'], "
    "a[href*='FileDown'], a[href*='filedown'], a[href*='atchFileId'], "
    "a[href*='procFileDownload'], a.view_file_download, a[href*='file_download']"
)
WRITER_BEFORE = ".if_name, li.writer, .writer, .sv_member, .author, .name"
DROP_BEFORE = (
    ".cnt_cmt, .replyNum, .comment_count, .kboard-comments-count, .kboard-mobile-contents, "
    ".category, .bo_cate_link, .bo_cate, .cate, .cmt, .comment, .wrp, .speech, "
    ".sound_only, .blind, .sr-only"
)

ID_FIELDS_BEFORE = ("wr_id", "document_srl", "nttid", "uid", "content_uid", "article_no", "post_id")
ACTION_PARAMS_BEFORE = frozenset({"w", "act", "mode", "mod"})
BOARD_PARAMS_BEFORE = (
    "bo_table",
    "mid",
    "bbsid",
    "board",
    "bbs",
    "code",
    "bid",
    "boardid",
    "board_id",
)
NOT_TITLE_BEFORE = frozenset(
    {"category", "cate", "bo_cate_link", "replynum", "cnt_cmt", "comment", "cmt", "sv_member"}
)
COMMENT_LINKS_BEFORE = ("#comment", "_comment", "cwin=")
CATEGORY_LINKS_BEFORE = ("sca=", "category=")
NAV_BEFORE = ("prev", "next", "bo_v_nb", "nav", "pager")
PART_CLASSES_BEFORE = {
    "date": r"date|time|regdate|day|when",
    "author": r"writer|author|name|user|nick|sv_member|dept",
    "views": r"view|hit|read|count",
    "number": r"^(?:num|no|number)$",
}


def parts(css: str) -> set[str]:
    return {part.strip() for part in css.split(",")}


def test_id_parameters_keep_their_order_of_preference() -> None:
    assert keys.ID_PARAMS == ID_PARAMS_BEFORE
    assert keys.NOT_ID_PARAMS == NOT_ID_PARAMS_BEFORE


def test_header_labels_keep_their_order_of_preference() -> None:
    assert tables.LABELS == LABELS_BEFORE
    assert list(tables.LABELS) == list(LABELS_BEFORE)


def test_hidden_classes_are_the_same() -> None:
    assert text.HIDDEN_CLASSES == HIDDEN_BEFORE


@pytest.mark.parametrize(
    ("pool", "before", "wider"),
    [
        (detail.BODY, BODY_BEFORE, {"div.view_content"}),  # esg's, within `.view_content`
        # KBoard's buttons and MangBoard's script links, read since #28
        (
            detail.FILES,
            FILES_BEFORE,
            {"button[onclick*='file_download']", "a.file-download", "a.file_download"},
        ),
        (detail.WRITER, WRITER_BEFORE, set()),
        (parse.DROP, DROP_BEFORE, set()),
    ],
    ids=["body", "files", "writer", "drop"],
)
def test_pooled_selectors_match_what_they_did(pool: str, before: str, wider: set[str]) -> None:
    """A group selector matches in page order whatever its parts' order: the parts decide."""
    assert parts(pool) == parts(before) | wider
    compiled(pool)


def test_the_egov_board_id_fills_the_link_from_the_script() -> None:
    assert keys.SCRIPT_FIELDS == (("bbsId", "BBSMSTR"),)
    assert keys._script_fields(["BBSMSTR_000000000012", "251"]) == {"bbsId": "BBSMSTR_000000000012"}


def test_every_profile_reads_notices_and_departments_with_the_same_words() -> None:
    for profile in (*BUILTIN.values(), Profile(name="mine", row="li", title="a")):
        assert profile.notice_words == ("공지", "공지사항", "notice", "[공지]", "필독")
        assert profile.department_labels == ("담당부서", "소관부서", "담당과", "부서명", "부서")
        assert profile.drop is None  # the pool, `parse.DROP`


def test_a_family_labels_only_columns_the_reader_knows() -> None:
    assert {column for column, _ in pooled(lambda p: p.labels)} <= set(tables.GENERIC_LABELS)


def test_the_generic_tables_name_no_family_engine_word() -> None:
    engine = {*pooled(lambda p: p.id_params), *pooled(lambda p: p.not_id_params)}
    assert engine.isdisjoint(keys.GENERIC_ID_PARAMS)
    assert engine.isdisjoint(keys.GENERIC_NOT_ID_PARAMS)
    assert set(pooled(lambda p: p.hidden)).isdisjoint(text.GENERIC_HIDDEN_CLASSES)


def test_a_post_pages_id_fields_keep_their_order_of_preference() -> None:
    """Not `id_params`' order: eGov's `nttid` is preferred to KBoard's `uid` (`ID_FIELD_ORDER`)."""
    assert keys.ID_FIELDS == ID_FIELDS_BEFORE
    assert set(ID_FIELD_ORDER) <= set(BUILTIN)


def test_id_fields_follow_their_order_where_a_page_carries_two() -> None:
    page = Selector(
        text='<form><input type="hidden" name="uid" value="7">'
        '<input type="hidden" name="nttId" value="251"></form>'
    )
    assert keys.page_id(page.root, "https://example.org/view.do") == "251"


def test_the_families_own_words_keep_what_they_were() -> None:
    assert keys.ACTION_PARAMS == ACTION_PARAMS_BEFORE
    assert cards.BOARD_PARAMS == BOARD_PARAMS_BEFORE
    assert parse.NOT_TITLE == NOT_TITLE_BEFORE
    assert parse.COMMENT_LINKS == COMMENT_LINKS_BEFORE
    assert parse.CATEGORY_LINKS == CATEGORY_LINKS_BEFORE
    assert set(detail.NAV) == set(NAV_BEFORE)  # any one of them marks a block as navigation


def test_card_parts_are_named_by_the_same_class_words() -> None:
    """An alternation matches whatever its words' order: the words decide."""
    assert list(cards.PART_CLASSES) == list(PART_CLASSES_BEFORE)
    for name, before in PART_CLASSES_BEFORE.items():
        pattern = cards.PART_CLASSES[name]
        assert set(pattern.pattern.split("|")) == set(before.split("|")), name
        assert pattern.flags & re.IGNORECASE


def test_the_new_generic_tables_name_no_family_engine_word() -> None:
    engine = {
        *pooled(lambda p: p.id_fields),
        *pooled(lambda p: p.action_params),
        *pooled(lambda p: p.board_params),
        *pooled(lambda p: p.not_title),
        *pooled(lambda p: p.nav),
    }
    assert engine.isdisjoint(keys.GENERIC_ID_FIELDS)
    assert engine.isdisjoint(keys.GENERIC_ACTION_PARAMS)
    assert engine.isdisjoint(cards.GENERIC_BOARD_PARAMS)
    assert engine.isdisjoint(parse.GENERIC_NOT_TITLE)
    assert engine.isdisjoint(detail.GENERIC_NAV)
    assert {part for part, _ in pooled(lambda p: p.card_parts)} <= set(cards.GENERIC_PART_CLASSES)


def test_adding_a_family_names_every_field_an_engine_sets() -> None:
    hints = get_type_hints(Profile, include_extras=True)
    engine = [n for n, h in hints.items() if h in (profiles.Words, profiles.Pairs, profiles.Css)]
    assert len(engine) == 16
    assert [name for name in engine if f"`{name}`" not in (profiles.__doc__ or "")] == []
