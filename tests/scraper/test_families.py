"""Every built-in board family on pages written to its engine's real markup: keys from links,
clean titles, notices, New markers, dates, views, links, and encodings."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from scraper.items import Row
from scraper.parse import read_list
from scraper.profiles import BUILTIN, Profile
from scraper.spiders.board import decode


def rows_of(root: Selector, base_url: str, profile: Profile, now: datetime) -> list[Row]:
    """The rows of a page that can be read right (none when it must be refused)."""
    page = read_list(root, base_url, profile, now)
    return [] if page.problem else page.rows


FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 7, 23, 12, 0, tzinfo=ZoneInfo("Asia/Seoul"))
D = date

# family: (fixture, list URL, rows as (key, number, notice, new, title, date, views, url))
FAMILIES = {
    "gnuboard": (
        "gnuboard_list.html",
        "https://gb.example.or.kr/bbs/board.php?bo_table=notice",
        [
            (
                "12",
                None,
                True,
                False,
                "2025년 회원사 정기총회 개최 안내",
                D(2025, 1, 2),
                1482,
                "https://gb.example.or.kr/bbs/board.php?bo_table=notice&wr_id=12",
            ),
            (
                "3121",
                "2905",
                False,
                True,
                "탄소중립 산업전환 지원사업 2차 공모",
                D(2025, 7, 23),
                57,
                "https://gb.example.or.kr/bbs/board.php?bo_table=notice&wr_id=3121",
            ),
            (
                "3119",
                "2904",
                False,
                False,
                "[보도자료] 수소경제 활성화 로드맵 이행 점검",
                D(2025, 7, 21),
                1204,
                "https://gb.example.or.kr/bbs/board.php?bo_table=notice&wr_id=3119",
            ),
            (
                "3118",
                "2903",
                False,
                False,
                "ESG 공시 가이드라인 설명회 자료",
                D(2025, 7, 20),
                88,
                "https://gb.example.or.kr/bbs/board.php?bo_table=notice&wr_id=3118",
            ),
        ],
    ),
    "xe": (
        "xe_list.html",
        "https://forum.example.kr/index.php?mid=pds",
        [
            (
                "8812",
                None,
                True,
                False,
                "자료실 이용 안내",
                D(2024, 2, 1),
                2311,
                "https://forum.example.kr/pds/8812",
            ),
            (
                "10342",
                "412",
                False,
                True,
                "2025 기후위기 대응 정책 동향 보고서",
                D(2025, 7, 23),
                31,
                "https://forum.example.kr/pds/10342",
            ),
            (
                "10298",
                "411",
                False,
                False,
                "순환경제 전환 세미나 발표자료",
                D(2025, 7, 20),
                147,
                "https://forum.example.kr/index.php?mid=pds&document_srl=10298&page=1",
            ),
            (
                "10211",
                "410",
                False,
                False,
                "탄소국경조정제도(CBAM) 대응 안내서",
                D(2025, 7, 11),
                1024,
                "https://forum.example.kr/pds/10211",
            ),
        ],
    ),
    "kboard": (
        "kboard_list.html",
        "https://csm.example.org/news/",
        [
            (
                "31",
                None,
                True,
                False,
                "회원 가입 및 뉴스레터 구독 안내",
                D(2024, 3, 2),
                904,
                "https://csm.example.org/news/?uid=31&mod=document&pageid=1",
            ),
            (
                "205",
                "128",
                False,
                True,
                "기업 인권경영 실사 가이드 발간",
                D(2025, 7, 23),
                41,
                "https://csm.example.org/news/?uid=205&mod=document&pageid=1",
            ),
            (
                "203",
                "127",
                False,
                False,
                "공급망 ESG 리스크 점검 워크숍 후기",
                D(2025, 7, 18),
                1130,
                "https://csm.example.org/news/?uid=203&mod=document&pageid=1",
            ),
        ],
    ),
    "egov": (
        "egov_list_euckr.html",
        "https://env.example.go.kr/cop/bbs/selectBoardList.do?bbsId=BBSMSTR_000000000012&pageIndex=1",
        [
            (
                "000000000000000000451",
                None,
                True,
                False,
                "개인정보 처리방침 개정 안내",
                D(2025, 1, 6),
                3021,
                "https://env.example.go.kr/cop/bbs/selectBoardArticle.do?bbsId=BBSMSTR_000000000012&nttId=000000000000000000451",
            ),
            (
                "000000000000000000987",
                "1234",
                False,
                True,
                "미세먼지 저감 대책 추진 현황",
                D(2025, 7, 23),
                58,
                "https://env.example.go.kr/cop/bbs/selectBoardArticle.do?bbsId=BBSMSTR_000000000012&nttId=000000000000000000987",
            ),
            (
                "000000000000000000985",
                "1233",
                False,
                False,
                "하천 수질 개선 사업 착수",
                D(2025, 7, 22),
                1102,
                "https://env.example.go.kr/cop/bbs/selectBoardArticle.do?bbsId=BBSMSTR_000000000012&nttId=000000000000000000985",
            ),
            (
                "000000000000000000981",
                "1232",
                False,
                False,
                "폐기물 처리시설 설치 기준 개정",
                D(2025, 7, 21),
                77,
                "https://env.example.go.kr/cop/bbs/selectBoardArticle.do?bbsId=BBSMSTR_000000000012&nttId=000000000000000000981",
            ),
        ],
    ),
    "auto": (
        "auto_list.html",
        "https://org.example.kr/board/list.php?page=1",
        [
            (
                "77",
                None,
                True,
                False,
                "홈페이지 개편 안내",
                D(2024, 12, 30),
                1020,
                "https://org.example.kr/board/view.php?idx=77&page=1",
            ),
            (
                "903",
                "356",
                False,
                True,
                "녹색채권 발행 지원사업 공고",
                D(2025, 7, 23),
                12,
                "https://org.example.kr/board/view.php?idx=903&page=1",
            ),
            (
                "901",
                "355",
                False,
                False,
                "기후테크 스타트업 데모데이",
                D(2025, 7, 19),
                240,
                "https://org.example.kr/board/view.php?idx=901&page=1",
            ),
        ],
    ),
}
FIELDS = ("key", "number", "notice", "new_marker", "title", "date", "views", "url")


def parse(family: str, encoding: str = "auto") -> list[dict[str, object]]:
    fixture, url, _ = FAMILIES[family]
    response = HtmlResponse(url=url, body=(FIXTURES / fixture).read_bytes())
    page = decode(response, encoding)
    return rows_of(page.selector, page.url, BUILTIN[family], NOW)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_rows(family: str) -> None:
    rows = [tuple(row[f] for f in FIELDS) for row in parse(family)]
    assert rows == FAMILIES[family][2]


@pytest.mark.parametrize("family", FAMILIES)
def test_keys_are_unique_and_come_from_links(family: str) -> None:
    rows = parse(family)
    assert len({r["key"] for r in rows}) == len(rows)
    assert all(r["key"] != r["number"] for r in rows)


def test_euc_kr_without_any_charset_declaration_reads_as_hangul() -> None:
    body = (FIXTURES / "egov_list_euckr.html").read_bytes()
    assert b"charset" not in body.lower()
    rows = parse("egov")
    assert rows[1]["title"] == "미세먼지 저감 대책 추진 현황"


def test_forced_encoding_wins() -> None:
    rows = parse("egov", encoding="cp949")
    assert rows[2]["title"] == "하천 수질 개선 사업 착수"


def test_auto_finds_no_table_on_a_page_without_one() -> None:
    page = HtmlResponse(
        url="https://x.example/", body="<html><body><p>점검 중</p></body></html>".encode()
    )
    assert rows_of(page.selector, page.url, BUILTIN["auto"], NOW) == []


@pytest.mark.parametrize("declared", ['<meta charset="utf-8">', ""])
def test_a_utf8_page_with_a_few_broken_bytes_stays_utf8(declared: str) -> None:
    """Two stray bytes in one title cost that title two characters, never the whole page."""
    fixture, url, _ = FAMILIES["gnuboard"]
    body = (FIXTURES / fixture).read_bytes().replace(b'<meta charset="utf-8">', declared.encode())
    first = body.index("탄소중립".encode())
    body = body[:first] + b"\xff\xfe" + body[first:]
    page = decode(HtmlResponse(url=url, body=body))
    rows = rows_of(page.selector, page.url, BUILTIN["gnuboard"], NOW)
    assert len(rows) == len(FAMILIES["gnuboard"][2])
    assert any(row["title"].startswith("\ufffd\ufffd탄소중립") for row in rows)
    assert "제목" in page.text and "글쓴이" in page.text
