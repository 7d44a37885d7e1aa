"""Nothing lost and nothing flooded when ordinary things change: a target's URL, a first crawl
that fails half-way, a post's link, a board's link form. Through the real command."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.cli import scrape
from tests.support.egov import EgovBoard, EgovServer
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.shorturls import ShortUrlServer, free_board, slugify
from tests.support.slack import SlackRecorder
from tests.support.workspace import Workspace, esg_config, received

pytestmark = pytest.mark.filterwarnings("ignore")


def team(smtp: SmtpSink, slack: SlackRecorder, *, password: str = "${SMTP_PASSWORD}") -> str:
    """One subscriber with an email target whose password comes from the environment, and Slack."""
    mail = smtp.url("team@example.com").replace(PASSWORD, password)
    return f'\n[[subscribers]]\nname = "team"\nurls = ["{mail}", "{slack.url()}"]\n'


def pending(workspace: Workspace) -> int:
    (sub,) = workspace.run("status", "--json", check=0).json()["subscribers"]
    return int(sub["pending"])


def slack_texts(slack: SlackRecorder) -> list[str]:
    return [json.dumps(r.json(), ensure_ascii=False) for r in slack.requests]


def test_a_target_whose_secret_is_fixed_receives_what_it_was_owed(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
) -> None:
    workspace.write(esg_config(board_server, urls=[], subscribers=team(smtp, slack)))
    workspace.env["SMTP_PASSWORD"] = "wrong-password"
    workspace.run("once", check=0)
    post = board.add("비밀번호가 틀린 동안 올라온 글")
    failed = workspace.run("-q", "once")
    assert failed.code == 1 and "team" in failed.err and smtp.messages == []
    assert len(slack.requests) == 1 and post.title in slack_texts(slack)[0]
    assert pending(workspace) == 1
    workspace.env["SMTP_PASSWORD"] = "another-wrong-one"  # status whichever secret is set
    assert pending(workspace) == 1
    assert "nothing pending" not in workspace.run("digest", "--preview", check=0).out
    workspace.env["SMTP_PASSWORD"] = PASSWORD  # the operator fixes the variable
    workspace.run("once", check=0)
    assert received(smtp, [post]) == {post.id: 1}
    assert len(slack.requests) == 1  # Slack accepted it before: never sent again
    assert pending(workspace) == 0
    workspace.run("once", check=0)
    assert len(smtp.messages) == 1 and len(slack.requests) == 1


def test_a_target_whose_port_is_edited_in_the_file_receives_what_it_was_owed(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    wrong = smtp.url().replace(f":{smtp.port}?", ":9?")  # nothing listens on port 9
    workspace.write(esg_config(board_server, urls=[wrong]))
    workspace.run("once", check=0)
    posts = [board.add("포트가 틀린 동안 올라온 글 1"), board.add("포트가 틀린 동안 올라온 글 2")]
    assert workspace.run("once").code == 1
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    assert received(smtp, posts) == {post.id: 1 for post in posts}


def test_a_removed_target_owes_nothing_and_an_added_one_gets_only_what_is_still_owed(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
) -> None:
    workspace.env["SMTP_PASSWORD"] = "wrong-password"
    workspace.write(esg_config(board_server, urls=[], subscribers=team(smtp, slack)))
    workspace.run("once", check=0)
    history = board.add("모두가 받은 글")
    workspace.env["SMTP_PASSWORD"] = PASSWORD
    workspace.run("once", check=0)  # both targets accepted it: history
    workspace.env["SMTP_PASSWORD"] = "wrong-password"
    owed = board.add("메일이 아직 받지 못한 글")
    assert workspace.run("once").code == 1  # Slack took it, the email still owes it
    # A new Slack channel is added: it gets what the subscriber still owes, not history.
    urls = f'"{smtp.url().replace(PASSWORD, "${SMTP_PASSWORD}")}", "{slack.url()}", '
    urls += f'"{slack.url("news")}"'
    workspace.write(
        esg_config(
            board_server, urls=[], subscribers=f'[[subscribers]]\nname = "team"\nurls = [{urls}]\n'
        )
    )
    assert workspace.run("once").code == 1
    news = [text for text in slack_texts(slack) if "#news" in text]
    assert len(news) == 1 and owed.title in news[0] and history.title not in news[0]
    # The failing email is removed: nothing is owed any more.
    workspace.write(
        esg_config(
            board_server,
            urls=[],
            subscribers=f'[[subscribers]]\nname = "team"\n'
            f'urls = ["{slack.url()}", "{slack.url("news")}"]\n',
        )
    )
    assert pending(workspace) == 0
    workspace.run("once", check=0)
    assert len(smtp.messages) == 1 and len(slack.requests) == 3  # nothing more to anyone


def test_a_target_left_out_of_the_file_while_status_and_preview_run_keeps_its_debts(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read-only commands change nothing: a failing target taken out of the file for a moment,
    while someone looks at `status` and `digest --preview`, is still owed its posts when it is
    put back, fixed."""
    workspace.env["SMTP_PASSWORD"] = "wrong-password"
    workspace.write(esg_config(board_server, urls=[], subscribers=team(smtp, slack)))
    workspace.run("once", check=0)
    posts = [board.add("메일이 받지 못한 글 1"), board.add("메일이 받지 못한 글 2")]
    assert workspace.run("-q", "once").code == 1  # Slack took both; the email owes them
    slack_only = f'[[subscribers]]\nname = "team"\nurls = ["{slack.url()}"]\n'
    workspace.write(esg_config(board_server, urls=[], subscribers=slack_only))
    status = scrape(workspace, capsys, monkeypatch, "status", "--json")
    assert status.code == 0 and status.json()["subscribers"][0]["pending"] == 0
    preview = scrape(workspace, capsys, monkeypatch, "digest", "--preview")
    assert preview.code == 0 and "nothing pending" in preview.out
    workspace.write(esg_config(board_server, urls=[], subscribers=team(smtp, slack)))
    workspace.env["SMTP_PASSWORD"] = PASSWORD  # put back, fixed
    workspace.run("once", check=0)
    assert received(smtp, posts) == {post.id: 1 for post in posts}
    assert len(slack.requests) == 1


def test_targets_sharing_a_rotated_secret_each_keep_their_own_account(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    """Two email targets share ${PW}; one is down (a wrong port). The password is rotated, and
    the port fixed in the same edit: the healthy target receives each post once, the other
    what it was owed."""

    def mail(to: str, port: int) -> str:
        url = smtp.url(to).replace(PASSWORD, "${PW}")
        return url.replace(f":{smtp.port}?", f":{port}?")

    def config(down_port: int) -> str:
        urls = f'"{mail("a@example.com", smtp.port)}", "{mail("b@example.com", down_port)}"'
        return esg_config(
            board_server, urls=[], subscribers=f'[[subscribers]]\nname = "team"\nurls = [{urls}]\n'
        )

    workspace.env["PW"] = PASSWORD
    workspace.write(config(down_port=9))  # nothing listens on port 9
    workspace.run("once", check=0)
    posts = [board.add(f"비밀번호를 바꾸기 전에 올라온 글 {n}") for n in range(3)]
    assert workspace.run("-q", "once").code == 1
    assert received(smtp, posts, "a@example.com") == {post.id: 1 for post in posts}
    smtp.password = workspace.env["PW"] = "rotated-Secret-2"
    workspace.write(config(down_port=smtp.port))
    workspace.run("once", check=0)
    assert received(smtp, posts, "a@example.com") == {post.id: 1 for post in posts}
    assert received(smtp, posts, "b@example.com") == {post.id: 1 for post in posts}
    workspace.run("once", check=0)
    assert len(smtp.messages) == 2


PAGE_2 = "/bbs/board.php?bo_table=esg_news&page=2"


def test_a_first_crawl_that_fails_part_way_is_the_baseline_for_what_it_stored(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board="max_pages = 3"))
    board.failures[PAGE_2] = 500
    first = workspace.run("once")
    assert first.code == 1 and "baseline" in first.err and "22 stored" in first.err
    assert workspace.scalar("SELECT count(*) FROM posts") == 22  # page 1: 20 posts, 2 notices
    del board.failures[PAGE_2]
    fresh = [
        board.add("실패한 첫 수집 뒤에 올라온 글 1"),
        board.add("실패한 첫 수집 뒤에 올라온 글 2"),
    ]
    unreached = board.posts[22:40]  # page 2 and 3 before: the failed walk never saw them
    second = workspace.run("once", check=0)
    assert received(smtp, fresh) == {post.id: 1 for post in fresh}
    (mail,) = smtp.messages
    assert "뿌리산업" in mail.get_body(("html",)).get_content()  # their pages were read
    assert received(smtp, unreached) == {post.id: 0 for post in unreached}
    assert "2 new" in second.err
    stored = {key for (key,) in workspace.rows("SELECT key FROM posts")}
    assert {str(post.id) for post in unreached} <= stored
    workspace.run("once", check=0)
    assert len(smtp.messages) == 1


def test_a_first_crawl_whose_first_page_fails_says_it_stored_nothing(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    board.failures["list"] = 503
    failed = workspace.run("-q", "once")
    assert failed.code == 1 and "nothing stored" in failed.err
    assert not re.search(r"\d+ (new|stored)", failed.err)
    del board.failures["list"]
    workspace.run("once", check=0)  # the baseline, at last: nothing sent
    assert smtp.messages == []


def mail_to(smtp: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if m["To"] == address]


def test_an_edited_title_on_title_short_urls_is_an_update_not_a_new_post(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)
    keys = {key for (key,) in workspace.rows("SELECT key FROM posts")}
    assert keys == {str(n) for n in range(1, 50)}  # each post by the id its page carries
    edited = board.edit(47, "자유게시판 글 47번 안내 (수정)")
    workspace.run("once", check=0)
    assert mail_to(smtp, "plain@example.com") == []
    (update,) = mail_to(smtp, "updates@example.com")
    assert update["Subject"] == "[자유게시판] 수정 1건"
    assert quote(edited.slug) in update.get_body(("html",)).get_content()  # the link that works
    assert workspace.scalar("SELECT count(*) FROM posts") == 49
    quiet = workspace.run("once", check=0)
    assert "0 new" in quiet.err and len(smtp.messages) == 1


def test_a_board_whose_links_change_form_keeps_its_posts(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)  # ?wr_id=…
    for form in ("numeric", "title", "query"):
        board.form = form
        post = board.write(f"{form} 주소로 바뀐 뒤 올라온 글")
        workspace.run("once", check=0)
        (mail,) = mail_to(smtp, "plain@example.com")[-1:]
        body = mail.get_body(("html",)).get_content()
        assert mail["Subject"] == "[자유게시판] 새 글 1건" and post.title in body
    assert len(mail_to(smtp, "plain@example.com")) == 3
    assert workspace.scalar("SELECT count(*) FROM posts") == 52


def test_a_board_whose_every_link_changed_sends_nothing_and_tells_the_admin_once(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    admin = f'[notify]\nadmin_urls = ["{smtp.url("admin@example.com")}"]\n'
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=admin, board="max_pages = 3"))
    workspace.run("once", check=0)
    stored = workspace.scalar("SELECT count(*) FROM posts")
    for post in board.posts + board.notices:  # the site moved to a new system: new ids
        post.id += 900_000
    moved = workspace.run("-q", "once", check=0)
    assert "links changed" in moved.err and "nothing of it was sent" in moved.err
    assert mail_to(smtp, "team@example.com") == []
    (alert,) = mail_to(smtp, "admin@example.com")
    assert "links changed" in alert["Subject"]
    (status,) = workspace.run("status", "--json", check=0).json()["boards"]
    assert "links changed" in status["warning"] and status["last_result"] == "ok"
    assert workspace.scalar("SELECT count(*) FROM posts") == stored
    workspace.run("once", check=0)  # quiet: the posts are known by their new links
    assert len(smtp.messages) == 1
    news = board.add("이전 뒤 처음 올라온 진짜 새 글")
    workspace.run("once", check=0)
    (mail,) = mail_to(smtp, "team@example.com")
    assert received(smtp, [news], "team@example.com") == {news.id: 1} and mail["Subject"].endswith(
        "새 글 1건"
    )


def test_a_burst_of_new_posts_after_a_week_offline_is_delivered_in_full(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board="max_pages = 5"))
    workspace.run("once", check=0)
    burst = board.add_many(45)
    result = workspace.run("-q", "once", check=0)
    assert "links changed" not in result.err
    assert received(smtp, burst) == {post.id: 1 for post in burst}


@pytest.fixture
def egov() -> Iterator[EgovServer]:
    with EgovServer(EgovBoard()) as server:
        yield server


def notices_board(server: EgovServer, smtp: SmtpSink) -> str:
    return f"""
timezone = "Asia/Seoul"
[crawl]
retries = 0
[[boards]]
name = "notices"
title = "알림마당"
url = "{server.list_url}"
profile = "egov"
[[subscribers]]
name = "team"
urls = ["{smtp.url()}"]
"""


def test_a_script_link_leads_where_the_pages_own_script_sends_it(
    workspace: Workspace, egov: EgovServer, smtp: SmtpSink
) -> None:
    workspace.write(notices_board(egov, smtp))
    assert workspace.run("-q", "once", check=0).err == ""
    post = egov.board.add("탄소중립 실천 주간 행사 안내")
    assert workspace.run("-q", "once", check=0).err == ""
    (mail,) = smtp.messages
    body = mail.get_body(("html",)).get_content()
    assert f"/cop/bbs/selectArticleDetail.do?bbsId=BBSMSTR_000000000077&amp;nttId={post.id}" in body
    assert "selectBoardArticle.do" not in body
    assert "탄소중립 실천 주간 행사 안내에 관한 안내입니다" in body  # its page was read


@pytest.mark.parametrize(("answer", "says"), [(404, "answers HTTP 404"), (200, "does not show")])
def test_a_guessed_link_that_leads_nowhere_is_a_warning_naming_the_board(
    workspace: Workspace, egov: EgovServer, smtp: SmtpSink, answer: int, says: str
) -> None:
    egov.board.script_inline = False  # the function lives in a .js file: the page says nothing
    egov.board.wrong_answers = answer
    workspace.write(notices_board(egov, smtp))
    baseline = workspace.run("-q", "once", check=0)
    assert "notices: post links built from the profile's link" in baseline.err
    assert "selectBoardArticle.do" in baseline.err and says in baseline.err
    (status,) = workspace.run("status", "--json", check=0).json()["boards"]
    assert says in status["warning"] and status["last_result"] == "ok"
    egov.board.add("링크를 추측해야 하는 새 글")
    again = workspace.run("-q", "once", check=0)
    assert says in again.err and len(smtp.messages) == 1  # the post is still news


def test_new_posts_with_the_titles_of_posts_still_listed_are_news(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    """Same-titled posts on one day (secret posts all read "비밀글입니다.", a bulletin's
    morning and evening editions): the earlier ones are still listed under their own links."""
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    titles = ["비밀글입니다."] * 5 + [f"오늘의 기상 정보 {n}" for n in range(5)]
    morning = [board.add(title) for title in titles][::-1]
    workspace.run("once", check=0)
    evening = [board.add(title) for title in titles][::-1]
    result = workspace.run("-q", "once", check=0)
    assert "links changed" not in result.err
    assert received(smtp, morning + evening) == {p.id: 1 for p in morning + evening}


def test_a_new_post_on_a_slug_another_post_had_is_news(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)
    first = board.write("신입 회원 모집 공고")
    workspace.run("once", check=0)
    board.edit(first.id, "신입 회원 모집 공고 (마감)")  # its slug is freed …
    workspace.run("once", check=0)
    again = board.write("신입 회원 모집 공고")  # … and the next round's post takes it
    assert again.slug == slugify("신입 회원 모집 공고")
    workspace.run("once", check=0)
    subjects = [m["Subject"] for m in mail_to(smtp, "plain@example.com")]
    assert subjects == ["[자유게시판] 새 글 1건", "[자유게시판] 새 글 1건"]
    assert again.title in mail_to(smtp, "plain@example.com")[1].get_body(("html",)).get_content()


def test_a_post_written_again_after_its_deletion_is_news(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    """Deleted for a typo and written again under the same title: the engine gives the new
    post the slug the old one had, and the list shows it above posts stored after the old."""
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)
    first = board.write("2026년 신입 회원 모집 공고")
    board.write("동아리 소식")
    workspace.run("once", check=0)
    with board.lock:
        board.articles.remove(first)
    again = board.write("2026년 신입 회원 모집 공고")
    assert again.slug == first.slug and again.id != first.id
    workspace.run("once", check=0)
    assert len(mail_to(smtp, "plain@example.com")) == 2


def test_an_edited_post_whose_page_does_not_answer_is_read_next_run_not_sent_as_new(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)
    edited = board.edit(47, "자유게시판 글 47번 안내 (수정)")
    board.down = {edited.slug}  # its page times out this once
    result = workspace.run("-q", "once", check=0)
    assert "47" in result.err or "post page" in result.err
    assert smtp.messages == [] and workspace.scalar("SELECT count(*) FROM posts") == 49
    board.down = set()
    workspace.run("once", check=0)
    assert mail_to(smtp, "plain@example.com") == []
    (update,) = mail_to(smtp, "updates@example.com")
    assert update["Subject"] == "[자유게시판] 수정 1건"


def test_a_quiet_run_on_title_links_to_another_host_reads_one_list_page(
    workspace: Workspace, shorturls: ShortUrlServer, smtp: SmtpSink
) -> None:
    board = shorturls.board
    board.form = "title"
    board.host = f"localhost:{shorturls.httpd.server_address[1]}"  # links name the site by name
    workspace.write(free_board(shorturls, smtp))
    workspace.run("once", check=0)
    before = len(board.requests)
    workspace.run("once", check=0)
    pages = [r for r in board.requests[before:] if r.startswith("/bbs/board.php")]
    assert len(pages) == 1
