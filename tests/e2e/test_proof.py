"""The walk trusts what the board shows, not its own guesses: pages turn where the pager points,
requests go only to the board's own site, an id a post page claims never takes another post's
identity, and posts are taken for a board's re-keyed links only once the old links are shown
gone. Through the real command, against local boards."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest

from tests.support.agency import SECRET, AgencyBoard, AgencyServer, Elsewhere
from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.shorturls import ShortUrlServer, free_board
from tests.support.workspace import Workspace, esg_config, received

# These read boards; where the posts are stored is not their subject: SQLite only.
pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.backends("sqlite")]


def agency_config(server: AgencyServer, smtp: SmtpSink, profile: str, board: str = "") -> str:
    return f"""
timezone = "Asia/Seoul"
[crawl]
retries = 0
[[boards]]
name = "press"
title = "보도자료"
url = "{server.list_url}"
profile = "{profile}"
{board}
[[subscribers]]
name = "team"
urls = ["{smtp.url("team@example.com")}"]
[[subscribers]]
name = "desk"
urls = ["{smtp.url("desk@example.com")}"]
"""


def deliveries(smtp: SmtpSink, titles: Sequence[str], to: str) -> Counter[str]:
    """How many digests to `to` carried each title (a summary may repeat it: once a digest)."""
    bodies = [
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for m in smtp.messages
        if m["To"] == to
    ]
    found: Counter[str] = Counter()
    for title in titles:
        pattern = re.compile(re.escape(title) + r"(?![0-9])")
        found[title] = sum(1 for body in bodies if pattern.search(body))
    return found


def stored(workspace: Workspace) -> int:
    return int(workspace.scalar("SELECT count(*) FROM posts"))


@pytest.mark.parametrize(
    ("param", "extra", "profile"),
    [("cpage", "", "esg"), ("board_page", "mode=list", "egov")],
    ids=["agency cpage, read as esg", "MangBoard board_page, read as egov"],
)
def test_pages_turn_where_the_pager_points_whatever_the_parameter_is_called(
    workspace: Workspace, smtp: SmtpSink, param: str, extra: str, profile: str
) -> None:
    board = AgencyBoard(posts=33, per_page=10, param=param, extra=extra)
    with AgencyServer(board) as server:
        workspace.write(agency_config(server, smtp, profile))
        assert workspace.run("-q", "once", check=0).err == ""
        assert stored(workspace) == 33  # every post of the four pages the pager shows
        burst = board.add_many(24, "긴급 보도자료")  # three list pages of news
        assert workspace.run("-q", "once", check=0).err == ""
        titles = [post.title for post in burst]
        for to in ("team@example.com", "desk@example.com"):
            assert deliveries(smtp, titles, to) == dict.fromkeys(titles, 1)
        probe = workspace.run("probe", server.list_url, check=0)
    assert f"pages: ?{param}=N (from the pager)" in probe.err


def test_a_board_that_does_not_turn_the_page_as_asked_is_an_error_not_ok(
    workspace: Workspace, smtp: SmtpSink
) -> None:
    """Its pager's links call a function of a .js file boardwatch does not read, so the
    profile's parameter is tried — and the board ignores it, serving page 1 again."""
    board = AgencyBoard(posts=33, per_page=10)
    board.script_pager = True
    with AgencyServer(board) as server:
        workspace.write(agency_config(server, smtp, "esg"))
        first = workspace.run("-q", "once")
        assert first.code == 1 and "press" in first.err
        assert "did not turn the page" in first.err and "scrape probe" in first.err
        (status,) = workspace.run("status", "--json", check=0).json()["boards"]
        assert status["last_result"] == "error" and "did not turn the page" in status["error"]
        check = workspace.run("status", "--check")
        assert check.code == 1 and "press" in check.out


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    with Elsewhere() as other:
        yield other


def test_a_board_whose_pages_name_another_site_never_requests_it(
    workspace: Workspace, smtp: SmtpSink, elsewhere: Elsewhere
) -> None:
    board = AgencyBoard(posts=15, per_page=10)
    board.elsewhere = elsewhere.base  # the same host, another port: another site
    with AgencyServer(board) as server:
        workspace.write(agency_config(server, smtp, "auto"))
        workspace.run("-q", "once", check=0)
        news = board.add_many(4, "기관 소식")
        board.offsite = {news[0].id: "script", news[1].id: "redirect", news[2].id: "canonical"}
        result = workspace.run("-q", "once", check=0)
    assert elsewhere.requests == []
    assert "press" in result.err and "another site" in result.err  # a warning names the board
    bodies = [m.get_body(("plain",)).get_content() for m in smtp.messages]  # type: ignore[union-attr]
    assert bodies and not any(SECRET in body for body in bodies)
    titles = [post.title for post in news]
    assert deliveries(smtp, titles, "team@example.com") == dict.fromkeys(titles, 1)
    scripted = f"{elsewhere.base}/view.do?nttId={news[0].id}"
    assert any(scripted in body for body in bodies)  # reported, with its link as the page gives it


def test_an_origin_the_operator_allows_is_read_without_asking_its_robots_txt(
    workspace: Workspace, smtp: SmtpSink, elsewhere: Elsewhere
) -> None:
    """`also_fetch` is the operator's word for that origin: its post pages are read — linked by
    a script, or redirected to from the board's own site — and its robots.txt is not asked (the
    board's own site's is)."""
    board = AgencyBoard(posts=15, per_page=10)
    board.elsewhere = elsewhere.base
    with AgencyServer(board) as server:
        allowed = f'also_fetch = ["{elsewhere.base}"]'
        workspace.write(agency_config(server, smtp, "auto", board=allowed))
        workspace.run("-q", "once", check=0)
        news = board.add_many(2, "기관 소식")
        board.offsite = {news[0].id: "script", news[1].id: "redirect"}
        workspace.run("-q", "once", check=0)
    assert sorted(elsewhere.requests) == sorted(f"/view.do?nttId={post.id}" for post in news)


def test_a_list_page_redirected_to_another_port_is_not_followed(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, elsewhere: Elsewhere
) -> None:
    workspace.write(esg_config(board_server, urls=[], board="max_pages = 3"))
    workspace.run("-q", "once", check=0)
    board.add_many(25)  # the news reaches page 2, which now sends the crawler elsewhere
    page2 = "/bbs/board.php?bo_table=esg_news&page=2"
    board.raw[page2] = (302, {"Location": f"{elsewhere.base}/list"}, b"")
    result = workspace.run("-q", "once")
    assert elsewhere.requests == []
    assert result.code == 1 and "esg" in result.err and "another site" in result.err


def test_a_post_page_claiming_another_new_posts_id_takes_nothing_from_it(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("-q", "once", check=0)
    first, second = board.write("정기 총회 안내"), board.write("봄맞이 대청소 안내")
    board.claims = {second.id: first.id}  # its page's hidden wr_id is the other's
    result = workspace.run("-q", "once", check=0)
    titles = [first.title, second.title]
    assert deliveries(smtp, titles, "plain@example.com") == dict.fromkeys(titles, 1)
    assert "free" in result.err and "both are kept" in result.err
    workspace.run("-q", "once", check=0)
    assert deliveries(smtp, titles, "plain@example.com") == dict.fromkeys(titles, 1)


def test_a_post_page_claiming_a_stored_posts_id_neither_retitles_it_nor_goes_unsent(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("-q", "once", check=0)
    before = dict(workspace.rows("SELECT key, title FROM posts"))
    news = board.write("동호회 회원 모집")
    board.claims = {news.id: 40}  # post 40 is stored, and still listed
    workspace.run("-q", "once", check=0)
    assert deliveries(smtp, [news.title], "plain@example.com") == {news.title: 1}
    assert [m["Subject"] for m in smtp.messages if m["To"] == "updates@example.com"] == [
        "[자유게시판] 새 글 1건"
    ]  # no "수정" for post 40
    after = dict(workspace.rows("SELECT key, title FROM posts"))
    assert after["40"] == before["40"] and len(after) == len(before) + 1


def test_new_posts_repeating_stored_titles_and_dates_are_news_while_the_old_links_answer(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    """A board that reposts: 40 new posts with the titles and dates of 40 stored ones, whose
    own links are still listed further down (past the pages a run walks) and still answer."""
    workspace.write(esg_config(board_server, urls=[smtp.url()], board="max_pages = 3"))
    workspace.run("-q", "once", check=0)
    workspace.write(esg_config(board_server, urls=[smtp.url()], board="max_pages = 2"))
    originals = board.posts[20:60]
    again = []
    for old in reversed(originals):
        post = board.add(old.title)
        post.day = old.day
        again.insert(0, post)
    result = workspace.run("-q", "once", check=0)
    assert "links changed" not in result.err
    assert received(smtp, again) == {post.id: 1 for post in again}


def test_pinned_notices_a_list_shows_without_a_date_rekey_like_posts(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    """The site moved to a new system (every link new, the old ones gone): its posts are known
    by their titles and dates — and its pinned notices, drawn without a date, by their titles."""
    board.notice_dates = False
    workspace.write(esg_config(board_server, urls=[smtp.url()], board="max_pages = 3"))
    workspace.run("-q", "once", check=0)
    for post in board.posts + board.notices:
        post.id += 900_000
    moved = workspace.run("-q", "once", check=0)
    assert "links changed" in moved.err
    assert smtp.messages == []
    assert workspace.scalar("SELECT count(*) FROM posts WHERE notice") == 2
