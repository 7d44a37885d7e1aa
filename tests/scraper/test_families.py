"""Every built-in board family on the page first written here to its engine's markup (now in the
corpus, whose test holds every row of it): keys from links, and encodings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from scraper.encoding import decode
from scraper.items import Row
from scraper.parse import read_list
from scraper.profiles import BUILTIN, Profile
from tests.support.corpus import CORPUS, case, response


def rows_of(root: Selector, base_url: str, profile: Profile, now: datetime) -> list[Row]:
    """The rows of a page that can be read right (none when it must be refused)."""
    page = read_list(root, base_url, profile, now)
    return [] if page.problem else page.rows


# Each family's first fixture, now in the corpus (its case there holds every row it must read).
PAGES = {
    "gnuboard": "gnuboard/legacy_g5_category_time_dates.html",
    "xe": "xe/legacy_xe_default_rewrite_links.html",
    "kboard": "kboard/legacy_kboard_default.html",
    "egov": "egov/legacy_euckr_no_charset_inquire_detail.html",
    "auto": "auto/legacy_table_list_yy_dates.html",
}
NOW = datetime(2025, 7, 23, 12, 0, tzinfo=ZoneInfo("Asia/Seoul"))


def parse(family: str, encoding: str = "auto") -> list[Row]:
    listed = case(PAGES[family])
    page = decode(response(listed), encoding)
    return rows_of(page.selector, page.url, BUILTIN[family], datetime.fromisoformat(listed["now"]))


@pytest.mark.parametrize("family", PAGES)
def test_keys_are_unique_and_come_from_links(family: str) -> None:
    rows = parse(family)
    assert len({r["key"] for r in rows}) == len(rows)
    assert all(r["key"] != r["number"] for r in rows)


def test_euc_kr_without_any_charset_declaration_reads_as_hangul() -> None:
    body = (CORPUS / PAGES["egov"]).read_bytes()
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
    gnuboard = case(PAGES["gnuboard"])
    body = (CORPUS / gnuboard["file"]).read_bytes()
    body = body.replace(b'<meta charset="utf-8">', declared.encode())
    first = body.index("탄소중립".encode())
    body = body[:first] + b"\xff\xfe" + body[first:]
    page = decode(response(gnuboard, body))
    rows = rows_of(page.selector, page.url, BUILTIN["gnuboard"], NOW)
    assert len(rows) == len(gnuboard["rows"])
    assert any(row["title"].startswith("\ufffd\ufffd탄소중립") for row in rows)
    assert "제목" in page.text and "글쓴이" in page.text
