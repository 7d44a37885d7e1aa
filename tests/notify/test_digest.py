"""Rendered digests against golden files, escaping per medium, and user template overrides.

Regenerate the golden files after an intended change with `BOARDWATCH_UPDATE_GOLDEN=1 pytest`.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notify.digest import TEMPLATES, Renderer, build
from notify.media import MEDIA, Medium, medium_for
from notify.views import DigestContext
from records.post import Entry

GOLDEN = Path(__file__).parent / "golden"
BOARD = "https://esg.example.kr/bbs/board.php?bo_table=esg_news"
AT = datetime(2025, 7, 23, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
HOSTILE = (
    "<script>alert(1)</script> <!channel> <@U024BE7LH> [x](https://evil.example) {{7*7}} a&b \\"
)


def entry(key: int, title: str, **extra: object) -> Entry:
    return {  # type: ignore[return-value,typeddict-item]
        "id": key,
        "board": "esg",
        "board_title": "ESG 정책뉴스",
        "key": str(key),
        "number": None,
        "title": title,
        "url": f"https://esg.example.kr/bbs/board.php?bo_table=esg_news&no={key}",
        "author": "총괄관리자",
        "date": date(2025, 7, 23),
        "views": 14,
        "new_marker": True,
        "notice": False,
        "summary": "정부는 뿌리산업의 첨단화 및 지속 성장 체계를 구축한다.",
        "department": "산업통상자원부",
        "organisation": "한국생산성본부",
        "source_url": "https://www.korea.kr/briefing/pressReleaseView.do?newsId=156624390",
        "attachments": [{"name": "보도자료.pdf", "url": "https://esg.example.kr/d.php?no=1"}],
        "first_seen": AT,
        "updated": False,
        "old_title": None,
        **extra,
    }


def context() -> DigestContext:
    entries = [
        entry(
            4478,
            "8월 부산에서 모이는 40여개국 에너지장관들, 의전차로 수소차 탄다.",
            posted_at=datetime(2025, 7, 23, 6, 16, tzinfo=ZoneInfo("UTC")),  # 15:16 in Seoul
        ),
        entry(4477, HOSTILE, new_marker=False, department=None, attachments=[]),
        entry(
            4470,
            "RE100 산단 조성에 범부처 역량 총결집 (수정)",
            updated=True,
            old_title="RE100 산단 조성에 범부처 역량 총결집",
        ),
    ]
    return build("esg-team", entries, AT, links={"esg": BOARD})


@pytest.mark.parametrize(
    ("medium", "suffix"), [("html", "html"), ("text", "txt"), ("slack", "slack")]
)
def test_digest_matches_golden_file(medium: str, suffix: str) -> None:
    message = Renderer().digest(context(), medium)
    assert message.title == "[ESG 정책뉴스] 새 글 2건, 수정 1건"
    golden = GOLDEN / f"digest.{suffix}"
    if os.environ.get("BOARDWATCH_UPDATE_GOLDEN"):
        golden.write_text(message.body, encoding="utf-8")
    assert message.body == golden.read_text(encoding="utf-8")


def test_alert_matches_golden_file() -> None:
    message = Renderer().alert(
        {
            "kind": "failing",
            "board": "esg",
            "title": "ESG 정책뉴스",
            "error": "list page failed: HTTP 503",
            "streak": 3,
        },
        AT,
    )
    rendered = f"{message.title}\n{message.body}"
    golden = GOLDEN / "alert.txt"
    if os.environ.get("BOARDWATCH_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_html_escapes_board_text() -> None:
    body = Renderer().digest(context(), "html").body
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "{{7*7}}" in body and "49" not in body


def test_slack_board_text_cannot_mention_or_link() -> None:
    from apprise.plugins.slack import NotifySlack

    sent = NotifySlack._commonmark_to_slack(Renderer().digest(context(), "slack").body)
    assert "<!channel>" not in sent and "<@U024BE7LH>" not in sent
    assert "<https://evil.example" not in sent and "&lt;!channel&gt;" in sent
    assert (
        "<https://esg.example.kr/bbs/board.php?bo_table=esg_news&amp;no=4478|8월 부산에서" in sent
    )


def test_only_http_links_reach_templates() -> None:
    ctx = build("s", [entry(1, "t", url="javascript:alert(1)", source_url="data:x")], AT)
    post = ctx["boards"][0]["posts"][0]
    assert post["url"] == "" and post["source_url"] is None
    assert "javascript:" not in Renderer().digest(ctx, "html").body


def test_user_template_overrides_builtin_and_still_escapes(tmp_path: Path) -> None:
    (tmp_path / "digest.html.j2").write_text(
        "{% for b in boards %}{% for p in b.posts %}<li>{{ p.title }}</li>{% endfor %}{% endfor %}"
    )
    (tmp_path / "subject.txt.j2").write_text("{{ count }} new for {{ subscriber }}")
    message = Renderer(tmp_path).digest(context(), "html")
    assert message.title == "3 new for esg-team"
    assert "<li>&lt;script&gt;" in message.body and "<script>" not in message.body
    assert Renderer(tmp_path).digest(context(), "text").body.startswith("■ ESG 정책뉴스")


@pytest.mark.parametrize(
    ("url", "medium"),
    [
        ("mailto://u:p@host?to=a@b", "html"),
        ("mailtos://host", "html"),
        ("slack://a/b/c", "slack"),
        ("discord://id/token", "text"),
        ("json://host/path", "text"),
    ],
)
def test_medium_for_url(url: str, medium: str) -> None:
    assert medium_for(url).name == medium


@pytest.mark.parametrize("medium", MEDIA.values(), ids=list(MEDIA))
def test_every_registered_medium_renders_the_digest(medium: Medium) -> None:
    """A new `Medium` record is sent as soon as it is registered: its template is found and
    carries every post, and Apprise is told the record's format."""
    assert (TEMPLATES / medium.template).is_file()
    message = Renderer().digest(context(), medium.name)
    assert message.format == medium.format and message.title == "[ESG 정책뉴스] 새 글 2건, 수정 1건"
    for text in ("ESG 정책뉴스", "의전차로 수소차 탄다", "RE100 산단 조성에 범부처 역량 총결집"):
        assert text in message.body
    assert "alert(1)" in message.body and message.body.endswith("\n")
    assert all(medium_for(f"{scheme}://host/path") == medium for scheme in medium.schemes)


def test_a_scheme_belongs_to_one_medium_and_the_rest_go_plain() -> None:
    claimed = [scheme for medium in MEDIA.values() for scheme in medium.schemes]
    assert len(claimed) == len(set(claimed))
    assert medium_for("MAILTOS://host").name == "html"
    assert medium_for("ntfy://topic") is MEDIA["text"]


@pytest.mark.parametrize("medium", ["html", "slack", "text"])
def test_a_digest_of_updates_alone_says_so(medium: str) -> None:
    updated = entry(3, "바뀐 제목", updated=True, old_title="원래 제목")
    message = Renderer().digest(build("team", [updated], AT), medium)
    assert message.title == "[ESG 정책뉴스] 수정 1건"
    assert "새 글" not in message.body and "0건" not in message.body


@pytest.mark.parametrize(
    ("marks", "pills"),
    [
        ((True, True, True), (False, False, False)),  # every post new and marked: says nothing
        ((False, False), (False, False)),
        ((True, False, True), (True, False, True)),  # a backlog mixing marked and not: it tells
    ],
    ids=["all marked", "none marked", "mixed"],
)
def test_the_new_mark_shows_only_where_it_tells_the_reader_something(
    marks: tuple[bool, ...], pills: tuple[bool, ...]
) -> None:
    entries = [entry(n, f"글 {n}", new_marker=mark) for n, mark in enumerate(marks, 1)]
    (board,) = build("team", entries, AT)["boards"]
    assert tuple(post["pill"] for post in board["posts"]) == pills
    html = Renderer().digest(build("team", entries, AT), "html").body
    assert html.count(">New</span>") == sum(pills)


def test_a_post_shows_the_time_its_page_gave_in_the_digests_zone_else_its_date() -> None:
    timed = entry(
        1, "시간이 있는 글", posted_at=datetime(2025, 7, 23, 6, 16, tzinfo=ZoneInfo("UTC"))
    )
    (board,) = build("team", [timed, entry(2, "날짜만 있는 글")], AT)["boards"]
    assert [post["when"] for post in board["posts"]] == ["2025-07-23 15:16", "2025-07-23"]
