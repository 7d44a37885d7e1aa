"""Atom feeds as a feed reader sees them: valid, escaped, stable ids, nothing XML cannot hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from notify.atom import Feed, atom, entry_id, write
from records.post import StoredPost

NOW = datetime(2025, 7, 23, 9, 0, tzinfo=UTC)


def entry(key: str, title: str, minutes: int = 0) -> StoredPost:
    return StoredPost(
        id=int(key),
        board="esg",
        board_title="ESG 정책뉴스",
        key=key,
        number=key,
        title=title,
        url=f"https://esg.example.kr/bbs/board.php?bo_table=esg_news&wr_id={key}&page=1",
        author="환경부 <기후>",
        date=None,
        views=None,
        new_marker=False,
        notice=False,
        first_seen=NOW - timedelta(minutes=minutes),
        summary="요약 & 본문",
        department=None,
        organisation=None,
        source_url=None,
        attachments=None,
    )


def test_a_feed_reader_reads_titles_links_and_ids_as_the_board_has_them() -> None:
    hostile = 'A <b>bold</b> & "quoted" ]]> title\x00\x08\x1b'
    body = atom(
        Feed("board/esg", "ESG <정책> & 뉴스", [entry("12", hostile), entry("11", "둘째", 5)]),
        NOW,
    )
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "ESG <정책> & 뉴스"
    assert feed.feed.id == "tag:boardwatch,2026:board/esg"
    first = feed.entries[0]
    assert first.title == 'A <b>bold</b> & "quoted" ]]> title'  # text, control characters gone
    assert first.link.endswith("wr_id=12&page=1") and first.author == "환경부 <기후>"
    assert first.id == entry_id("esg", "12") == "tag:boardwatch,2026:post/esg/12"
    assert feed.feed.updated_parsed[:5] == (2025, 7, 23, 9, 0)


def test_an_entry_id_depends_on_the_post_alone_and_stays_a_valid_uri() -> None:
    slug = entry_id("notice", "탄소중립 정책/안내 ?")
    assert slug == entry_id("notice", "탄소중립 정책/안내 ?")
    assert slug.isascii() and " " not in slug and slug.count("/") == 2


def test_an_empty_feed_is_still_valid(tmp_path: Path) -> None:
    path = tmp_path / "boards" / "quiet.xml"
    write(path, atom(Feed("board/quiet", "조용한 게시판", []), NOW))
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo and feed.entries == [] and feed.feed.title == "조용한 게시판"
    assert [p.name for p in path.parent.iterdir()] == ["quiet.xml"]  # no temporary file left


def test_an_entry_is_published_on_the_boards_date_in_the_boards_zone_never_after_found() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    dated, undated = entry("3", "날짜 있는 글", 0), entry("2", "날짜 없는 글", 30)
    dated["date"] = date(2025, 7, 22)  # midnight in Seoul: 15:00 UTC the day before
    future = entry("1", "미래 날짜", 0)
    future["date"] = date(2025, 7, 30)
    body = atom(
        Feed("board/esg", "ESG", [dated, undated, future], zone=ZoneInfo("Asia/Seoul")), NOW
    )
    published = [e.published for e in feedparser.parse(body).entries]
    assert published == ["2025-07-21T15:00:00Z", "2025-07-23T08:30:00Z", "2025-07-23T09:00:00Z"]
