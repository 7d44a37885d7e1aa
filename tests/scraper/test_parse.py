"""The ESG profile on pages written from the real board's text (`shared/seed`)."""

from __future__ import annotations

from datetime import date, datetime

from parsel import Selector

from scraper.detail import read_detail
from scraper.items import Row
from scraper.parse import clean_title, read_list
from scraper.profiles import BUILTIN, Profile
from tests.support.corpus import CORPUS, case


def rows_of(root: Selector, base_url: str, profile: Profile, now: datetime) -> list[Row]:
    """The rows of a page that can be read right (none when it must be refused)."""
    page = read_list(root, base_url, profile, now)
    return [] if page.problem else page.rows


LISTED = case("esg/legacy_board_list.html")  # the first ESG fixture, now in the corpus


def rows() -> list[Row]:
    page = Selector(text=(CORPUS / LISTED["file"]).read_text(encoding="utf-8"))
    return rows_of(page, LISTED["url"], BUILTIN["esg"], datetime.fromisoformat(LISTED["now"]))


def test_every_row_parsed_with_keys_from_the_link_not_the_running_number() -> None:
    parsed = rows()
    assert len(parsed) == 22
    newest = parsed[2]
    assert newest["key"] == "4478" and newest["number"] == "3265"
    assert newest["url"] == "https://esg.example.kr/bbs/board.php?bo_table=esg_news&no=4478&page=1"
    assert len({r["key"] for r in parsed}) == 22


def test_newest_row_fields() -> None:
    newest = rows()[2]
    assert newest["title"] == "8월 부산에서 모이는 40여개국 에너지장관들, 의전차로 수소차 탄다."
    assert newest["author"] == "총괄관리자"
    assert newest["date"] == date(2025, 7, 23)
    assert newest["views"] == 14
    assert newest["new_marker"] is True and newest["notice"] is False


def test_new_marker_only_on_marked_rows() -> None:
    marked = [r["number"] for r in rows() if r["new_marker"]]
    assert marked == [str(n) for n in range(3265, 3257, -1)]


def test_pinned_notices() -> None:
    notices = [r for r in rows() if r["notice"]]
    assert [(n["key"], n["number"], n["views"]) for n in notices] == [
        ("12", None, 1204),
        ("15", None, 873),
    ]
    assert notices[0]["title"] == "[안내] ESG 정책뉴스 게시판 이용 안내"


def test_detail_page() -> None:
    url = "https://esg.example.kr/bbs/board.php?bo_table=esg_news&no=2401"
    page = Selector(text=(CORPUS / "esg/legacy_view_wrap.html").read_text(encoding="utf-8"))
    detail = read_detail(
        page,
        url,
        BUILTIN["esg"],
        listed("제조업의 근간, 뿌리산업의 지속가능한 성장 생태계 조성 지원"),
    )
    assert detail["department"] == "산업통상자원부"
    assert detail["organisation"] == "한국생산성본부"
    assert detail["source_url"].startswith(
        "https://www.korea.kr/briefing/pressReleaseView.do?newsId=156624390"
    )
    assert detail["summary"].startswith("정부는 뿌리산업의 첨단화") and detail["summary"].endswith(
        "…"
    )
    assert len(detail["summary"]) <= 201 and "https://" not in detail["summary"]
    assert detail["attachments"] == [
        {
            "name": "2024년 뿌리산업 진흥 실행계획.hwpx",
            "url": "https://esg.example.kr/bbs/download.php?bo_table=esg_news&no=2401&file=0",
        },
        {
            "name": "보도자료.pdf",
            "url": "https://esg.example.kr/bbs/download.php?bo_table=esg_news&no=2401&file=1",
        },
    ]


def test_every_word_of_a_titles_text_is_the_title_and_only_a_comment_count_goes() -> None:
    """Markers and counts are elements (taken out of the link before); a word is never cut for
    looking like one: "What's New" is a title, not "What's" and a marker, and "[3]" typed into
    the title is the title's. Only a count a template writes across a tab goes."""
    cases = {
        "What's New": "What's New",
        "갤럭시 노트 N": "갤럭시 노트 N",
        "이번 주 Hot": "이번 주 Hot",
        "Plan N New": "Plan N New",
        "RE100 산단 조성  새글": "RE100 산단 조성 새글",
        "폭염 시 휴식 의무화 [3]": "폭염 시 휴식 의무화 [3]",  # typed: the title's own
        "Top 10 [2026]": "Top 10 [2026]",
        "탄소중립 포인트제 참여자 모집\t[2]": "탄소중립 포인트제 참여자 모집",  # eGov's count
        "2025년 상반기 (2차) 결과": "2025년 상반기 (2차) 결과",
        "New energy policy": "New energy policy",
    }
    assert {raw: clean_title(raw) for raw in cases} == cases


def test_deleted_post_answered_with_200_and_a_script_alert_gives_no_details() -> None:
    page = Selector(
        text="<html><head><script>alert('삭제된 게시물입니다.'); history.back();"
        "</script></head><body></body></html>"
    )
    url = "https://esg.example.kr/bbs/board.php?no=1"
    assert read_detail(page, url, BUILTIN["esg"], listed("삭제된 글")) is None


def listed(title: str) -> Row:
    return Row(
        key="1",
        number=None,
        title=title,
        url="https://esg.example.kr/bbs/board.php?bo_table=esg_news&no=1",
        author="총괄관리자",
        date=None,
        views=None,
        new_marker=False,
        notice=False,
    )
