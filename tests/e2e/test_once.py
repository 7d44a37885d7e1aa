"""`scrape once` end to end: the real command against a local ESG board, a real SMTP server and
recorded Slack requests."""

from __future__ import annotations

import re

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.slack import SlackRecorder
from tests.support.workspace import Workspace, esg_config

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def ready(
    workspace: Workspace, board_server: BoardServer, smtp: SmtpSink, slack: SlackRecorder
) -> Workspace:
    """Two email subscribers and one Slack subscriber, the board baselined."""
    urls = [smtp.url("one@example.com"), smtp.url("two@example.com"), slack.url("esg")]
    workspace.write(esg_config(board_server, urls=urls))
    workspace.run("once", check=0)
    return workspace


def slack_texts(slack: SlackRecorder) -> list[str]:
    return [req.json()["attachments"][0]["text"] for req in slack.requests]


def test_first_run_is_a_baseline_that_sends_nothing(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url(), slack.url()]))
    result = workspace.run("once", check=0)
    stored = workspace.run("posts", "--json", "--limit", "1000", check=0).json()
    assert len(stored) == 10 * board.per_page + 2  # max_pages = 10, two pinned notices
    assert {p["key"] for p in stored} >= {str(board.posts[0].id), str(board.notices[0].id)}
    assert smtp.messages == [] and slack.requests == []
    assert re.search(r"esg: baseline .*, 10 pages, 202 stored", result.err)
    assert board.detail_requests() == []  # a baseline sends nothing, so it reads no details


def test_quiet_run_fetches_one_list_page_and_sends_nothing(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    board.requests.clear()
    ready.run("once", check=0)
    assert board.list_requests() == ["/bbs/board.php?bo_table=esg_news&page=1"]
    assert board.detail_requests() == []
    assert smtp.messages == [] and slack.requests == []


def test_three_new_posts_one_digest_per_target_then_nothing(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    new = board.add_many(3)
    ready.run("once", check=0)
    assert sorted(m["To"] for m in smtp.messages) == ["one@example.com", "two@example.com"]
    for mail in smtp.messages:
        assert mail["Subject"] == "[ESG 정책뉴스] 새 글 3건"
        assert mail.get_content_type() == "multipart/alternative"
        html = mail.get_body(("html",)).get_content()
        text = mail.get_body(("plain",)).get_content()
        for post in new:
            link = f'href="http://127.0.0.1:{board_port(ready)}/bbs/board.php?bo_table=esg_news&amp;no={post.id}&amp;page=1"'
            assert re.search(rf"{re.escape(link)}[^>]*>{re.escape(post.title)}</a>", html)
            assert post.title in text and f"no={post.id}" in text
        assert html.index(new[0].title) < html.index(new[-1].title)  # newest first
        assert "산업통상자원부" in html  # department from the detail page
    assert len(slack.requests) == 1
    (text,) = slack_texts(slack)
    for post in new:
        assert re.search(
            rf"<http://127\.0\.0\.1:\d+/bbs/board\.php\?bo_table=esg_news&amp;no={post.id}&amp;page=1\|{re.escape(post.title)}>",
            text,
        )
    smtp.clear()
    slack.clear()
    ready.run("once", check=0)
    assert smtp.messages == [] and slack.requests == []


def board_port(ws: Workspace) -> str:
    return re.search(r"127\.0\.0\.1:(\d+)", ws.config.read_text()).group(1)  # type: ignore[union-attr]


def test_forty_five_new_posts_all_delivered_in_one_run(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    new = board.add_many(45)
    board.requests.clear()
    result = ready.run("once", check=0)
    assert "esg: 4 pages, 45 new" in result.err  # 45 new posts span pages 1-3; page 4 is all known
    # pages 2-5 were asked for ahead while page 1 was all new, page 6 while page 2 was
    assert sorted(board.list_requests()) == sorted(page_urls(range(1, 7)))
    assert len(smtp.messages) == 2 and len(slack.requests) == 1
    for mail in smtp.messages:
        assert mail["Subject"] == "[ESG 정책뉴스] 새 글 45건"
        html = mail.get_body(("html",)).get_content()
        assert all(f"no={p.id}&amp;" in html for p in new)
    assert all(f"no={p.id}&amp;" in slack_texts(slack)[0] for p in new)


def page_urls(pages: range) -> list[str]:
    return [f"/bbs/board.php?bo_table=esg_news&page={page}" for page in pages]


def test_pages_fetched_ahead_are_read_in_order_when_they_arrive_out_of_order(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink
) -> None:
    new = board.add_many(50)  # pages 1-2 all new, page 3 half, page 4 all known
    board.page_delays = {2: 0.5}  # pages 3-5 answer before page 2
    result = ready.run("once", check=0)
    assert "esg: 4 pages, 50 new" in result.err
    mails = [m for m in smtp.messages if m["To"] == "one@example.com"]
    assert len(mails) == 1 and mails[0]["Subject"] == "[ESG 정책뉴스] 새 글 50건"
    html = mails[0].get_body(("html",)).get_content()
    places = [html.index(f"no={p.id}&amp;") for p in new]  # newest first, as the board lists
    assert places == sorted(places)
    ready.run("once", check=0)
    assert sum(m["To"] == "one@example.com" for m in smtp.messages) == 1  # each post once


def test_pinned_notices_are_never_sent(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    board.add_many(25)  # pushes old posts to page 2, where the notices are pinned again
    ready.run("once", check=0)
    ready.run("once", check=0)
    sent = "".join(m.get_body(("html",)).get_content() for m in smtp.messages)
    sent += "".join(slack_texts(slack))
    assert sent and all(notice.title not in sent for notice in board.notices)


def test_dry_run_prints_new_posts_and_stores_and_sends_nothing(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    new = board.add_many(2)
    before = ready.run("posts", "--json", "--limit", "5000", check=0).json()
    result = ready.run("once", "--dry-run", check=0)
    for post in new:
        assert f"{post.id}\t" in result.out and post.title in result.out
    assert "6 entries" in result.out  # 2 posts x 3 targets would be queued
    assert ready.run("posts", "--json", "--limit", "5000", check=0).json() == before
    assert smtp.messages == [] and slack.requests == []
    ready.run("once", check=0)  # the real run still finds them
    assert len(smtp.messages) == 2


def test_no_notify_queues_and_the_next_run_sends(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    new = board.add_many(2)
    ready.run("once", "--no-notify", check=0)
    assert smtp.messages == [] and slack.requests == []
    pending = {s["name"]: s["pending"] for s in ready.run("status", "--json").json()["subscribers"]}
    assert pending == {"sub0": 2, "sub1": 2, "sub2": 2}
    ready.run("once", check=0)
    assert len(smtp.messages) == 2 and len(slack.requests) == 1
    assert all(p.title in slack_texts(slack)[0] for p in new)


def test_hostile_title_is_escaped_inert_and_unevaluated(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    hostile = "<script>alert(1)</script> <!channel> <@U024BE7LH> [x](https://evil.example) {{7*7}} {% raw %}"
    board.add(hostile)
    ready.run("once", check=0)
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{7*7}} {% raw %}</a>" in html  # verbatim: not evaluated
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "{{7*7}} {% raw %}" in text
    (slack_text,) = slack_texts(slack)
    assert "<!channel>" not in slack_text and "<@U024BE7LH>" not in slack_text
    assert "&lt;!channel&gt;" in slack_text and "&lt;@U024BE7LH&gt;" in slack_text
    assert "<https://evil.example" not in slack_text and "{{7*7}}" in slack_text
    assert ready.run("posts", "--json", "--limit", "1", check=0).json()[0]["title"] == hostile


def test_failed_target_is_retried_next_run_and_others_are_not_resent(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink, slack: SlackRecorder
) -> None:
    board.add_many(1)
    smtp.fail_with = "451 4.3.0 Try again later"
    result = ready.run("once")
    assert result.code == 1 and len(slack.requests) == 1 and smtp.messages == []
    assert "s3cretPW" not in result.all and "xoxSECRET" not in result.all
    status = ready.run("status", "--json").json()
    errors = {s["name"]: s["last_error"] for s in status["subscribers"]}
    assert errors["sub0"] and "bw:****@" in errors["sub0"] and errors["sub2"] is None
    smtp.fail_with = None
    ready.run("once", check=0)
    assert len(smtp.messages) == 2 and len(slack.requests) == 1


def test_failing_list_page_is_an_error_not_nothing_new(ready: Workspace, board: EsgBoard) -> None:
    board.failures["list"] = 503
    result = ready.run("once")
    assert result.code == 1
    assert "503" in result.err
    (status,) = ready.run("status", "--json").json()["boards"]
    assert status["last_result"] == "error" and "503" in status["error"]


def test_walk_failing_part_way_is_finished_by_the_next_run(
    ready: Workspace, board: EsgBoard, smtp: SmtpSink
) -> None:
    new = board.add_many(30)  # pages 1 and 2 hold new posts
    board.failures["/bbs/board.php?bo_table=esg_news&page=2"] = 500
    assert ready.run("once").code == 1
    del board.failures["/bbs/board.php?bo_table=esg_news&page=2"]
    ready.run("once", check=0)
    html = "".join(
        m.get_body(("html",)).get_content() for m in smtp.messages if m["To"] == "one@example.com"
    )
    assert all(html.count(f"no={p.id}&amp;") >= 1 for p in new)
    assert (
        sum(m["To"] == "one@example.com" for m in smtp.messages) == 2
    )  # page 1 first, then the rest
    assert all(html.count(f"no={p.id}&amp;page") == 2 for p in new)  # link + visible address, once


def test_robots_disallowed_list_page_is_never_requested(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.robots = "User-agent: *\nDisallow: /bbs/\n"
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    result = workspace.run("once")
    assert result.code == 1 and "robots.txt" in result.err
    assert board.requests == ["/robots.txt"]
    (status,) = workspace.run("status", "--json").json()["boards"]
    assert "robots.txt" in status["error"]


def test_every_board_that_waits_for_robots_txt_obeys_it(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    """Five boards of one site ask for their list pages at once; the first asks for robots.txt
    and the others wait for it. Each must hear its answer (Scrapy 2.19's own middleware gives it
    to the first two only, and the rest go ahead as if all were allowed)."""
    board.robots = "User-agent: *\nDisallow: /bbs/\n"
    extra = "".join(
        f'[[boards]]\nname = "also{i}"\nurl = "{board_server.list_url}&sca={i}"\nprofile = "esg"\n'
        for i in range(4)
    )
    workspace.write(esg_config(board_server, urls=[smtp.url()]) + extra)
    result = workspace.run("-q", "once")
    assert result.code == 1
    assert board.requests == ["/robots.txt"]
    assert len(result.err.strip().splitlines()) == 5
    assert result.err.count("robots.txt disallows the list page") == 5
