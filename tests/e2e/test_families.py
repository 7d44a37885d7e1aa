"""Boards nobody here wrote, through the real command: `probe` finds each family's profile,
`init URL` + `once` is a working baseline on each, and a page that cannot be read right is an
error a user sees — never "ok", never a traceback. Then the variations of one board that used
to be misread: New before the title, cut titles, dates without a year, running numbers."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.serving import LocalServer
from tests.support.workspace import Workspace, esg_config

# These read boards; where the posts are stored is not their subject: SQLite only.
pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.backends("sqlite")]
CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus"
CASES = {c["file"]: c for c in json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))}
# One page of each family, served at the address its case gives (the path, on a local server).
FAMILY_PAGES = [
    "esg/no_classes.html",
    "gnuboard/g5_seo_title_urls.html",
    "xe/rhymix_default_notice_twice.html",
    "kboard/default_current_esc_url.html",
    "egov/cc_article_list_void0_onclick.html",
]
BOARD_NAMES = {  # what each page calls its board
    "esg/no_classes.html": "ESG 정책뉴스",
    "gnuboard/g5_seo_title_urls.html": "공지사항",
    "xe/rhymix_default_notice_twice.html": "공지사항",
    "kboard/default_current_esc_url.html": "공지사항",
    "egov/cc_article_list_void0_onclick.html": "공지사항",
}


class _Corpus(SimpleHTTPRequestHandler):
    """Serves each corpus page under its own name, followed by the path its case names:
    `/esg/no_classes.html/bbs/board.php?bo_table=esg_news&page=1` (every page number alike)."""

    extensions_map: ClassVar[dict[str, str]] = {".html": "text/html"}  # no charset given

    def translate_path(self, path: str) -> str:
        name = urlsplit(path).path.split(".html", 1)[0].lstrip("/") + ".html"
        return str(CORPUS / name)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[str]:
    handler = functools.partial(_Corpus, directory=str(CORPUS))
    with LocalServer(handler) as server:
        yield server.base


def served(server: str, name: str) -> str:
    """The local address of a corpus page: its name, then its case's path and query."""
    parts = urlsplit(CASES[name]["url"])
    return f"{server}/{name}{parts.path}" + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def plain(tmp_path: Path) -> Workspace:
    """A workspace on SQLite only: these tests read boards, the backend is not what they test."""
    return Workspace(tmp_path, f"sqlite:///{tmp_path / 'boardwatch.db'}")


@pytest.mark.parametrize("name", FAMILY_PAGES)
def test_probe_without_a_profile_finds_the_family_and_reads_its_rows(
    plain: Workspace, corpus_server: str, name: str
) -> None:
    case = CASES[name]
    result = plain.run("probe", served(corpus_server, name), check=0)
    assert f"profile {case['family']!r} reads this page best" in result.err
    lines = [line.split("\t") for line in result.out.splitlines()]
    assert [cells[0] for cells in lines] == [row["key"] for row in case["rows"]]
    assert [cells[4] == "notice" for cells in lines] == [row["notice"] for row in case["rows"]]
    assert [cells[5] for cells in lines] == [row["title"] for row in case["rows"]]


@pytest.mark.parametrize("name", FAMILY_PAGES)
def test_init_url_then_once_is_a_working_baseline(
    plain: Workspace, corpus_server: str, name: str
) -> None:
    case = CASES[name]
    url = served(corpus_server, name)
    init = plain.run("init", url, check=0)
    config = plain.config.read_text(encoding="utf-8")
    assert f'profile = "{case["family"]}"' in config
    assert f'title = "{BOARD_NAMES[name]}"' in config  # as the page names the board
    named = "esg-jeongchaeknyuseu" if name.startswith("esg/") else "gongjisahang"
    assert f'name = "{named}"' in config  # after its title, in ASCII
    said = [line.split(" INFO ")[-1] for line in init.err.splitlines()]
    assert said[-2:] == [
        "next: scrape check   (the config, its targets and the database; sends nothing)",
        "then: scrape once    (the first crawl: a baseline, only `backfill` posts sent)",
    ]
    # The corpus has one page of each board, served for every page number: a second page
    # would repeat the first, which the walk rightly refuses where the pager promised more.
    plain.write(config.replace("max_pages = 10 ", "max_pages = 1 "))
    first = plain.run("once", check=0)
    assert "baseline" in first.err and "error" not in first.err
    stored = plain.run("posts", "--json", "--limit", "100", check=0).json()
    assert sorted(p["key"] for p in stored) == sorted(r["key"] for r in case["rows"])
    assert all(p["url"] != url and p["url"].startswith("http") for p in stored)
    (status,) = plain.run("status", "--json", check=0).json()["boards"]
    assert status["last_result"] == "ok"


@pytest.mark.parametrize(
    "name", ["esg/refuse_login_page.html", "gnuboard/refuse_alert_no_permission.html"]
)
def test_a_first_crawl_that_reads_no_post_is_an_error_not_a_baseline(
    plain: Workspace, corpus_server: str, name: str
) -> None:
    plain.write(board_config(served(corpus_server, name), CASES[name]["family"]))
    for _ in range(2):  # and it stays one: an empty page never becomes the board's baseline
        result = plain.run("-q", "once")
        assert result.code == 1
        assert "found no post" in result.err and "scrape probe" in result.err
        assert "Traceback" not in result.all
    (status,) = plain.run("status", "--json", check=0).json()["boards"]
    assert status["last_result"] == "error" and "scrape probe" in status["error"]
    assert plain.run("posts", "--json", check=0).json() == []


def test_a_board_that_says_it_has_no_posts_yet_is_a_baseline_of_none(
    plain: Workspace, corpus_server: str
) -> None:
    name = "gnuboard/g5_empty_board.html"
    plain.write(board_config(served(corpus_server, name), "gnuboard"))
    first = plain.run("-q", "once", check=0)
    assert first.err == ""
    (status,) = plain.run("status", "--json", check=0).json()["boards"]
    assert status["last_result"] == "ok" and status["posts"] == 0
    assert plain.scalar("SELECT baselined_at FROM boards") is not None  # its first posts: news


def test_rows_sharing_a_key_refuse_the_walk_and_store_nothing(
    plain: Workspace, corpus_server: str
) -> None:
    url = served(corpus_server, "esg/refuse_duplicate_keys.html")
    plain.write(board_config(url, "esg"))
    result = plain.run("-q", "once")
    assert result.code == 1
    assert "esg" in result.err and "'esg'" in result.err and "scrape probe" in result.err
    assert "share the key" in result.err
    assert "Traceback" not in result.all and "IntegrityError" not in result.all
    assert "INSERT" not in result.all
    assert plain.run("posts", "--json", check=0).json() == []


def test_egov_board_with_script_only_links_is_keyed_by_the_onclick_id(
    plain: Workspace, corpus_server: str
) -> None:
    name = "egov/cc_article_list_void0_onclick.html"
    url = served(corpus_server, name)
    plain.write(board_config(url, "egov"))
    plain.run("once", check=0)
    stored = {p["key"]: p for p in plain.run("posts", "--json", check=0).json()}
    assert set(stored) == {row["key"] for row in CASES[name]["rows"]}
    assert "0" not in stored
    for post in stored.values():  # where the page's own fn_egov_inquire_articledetail goes
        assert post["url"].endswith(
            f"/cop/bbs/selectArticleDetail.do?nttId={post['key']}&bbsId=BBSMSTR_000000000012"
        )


def board_config(url: str, profile: str) -> str:
    """A board on one corpus page (the corpus holds page 1 of each board alone)."""
    return f"""
[crawl]
retries = 0

[[boards]]
name = "esg"
url = "{url}"
profile = "{profile}"
max_pages = 1
"""


def updates_config(server: BoardServer, smtp: SmtpSink) -> str:
    subs = f'\n[[subscribers]]\nname = "all"\nurls = ["{smtp.url()}"]\ninclude_updates = true\n'
    return esg_config(server, urls=[], subscribers=subs)


def test_a_new_marker_before_the_title_is_no_part_of_it_and_its_going_is_no_update(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.new_before = True
    workspace.write(updates_config(board_server, smtp))
    workspace.run("once", check=0)
    post = board.add("기업 인권경영 실사 가이드 발간")
    workspace.run("once", check=0)
    (mail,) = smtp.messages
    assert mail["Subject"] == "[ESG 정책뉴스] 새 글 1건"
    newest = workspace.run("posts", "--json", "--limit", "1", check=0).json()[0]
    assert newest["title"] == post.title and newest["new_marker"] is True
    board.today += timedelta(days=1)  # a day later the badge is gone from every row
    board.add("다음 날 올라온 게시글")
    workspace.run("once", check=0)
    assert len(smtp.messages) == 2 and "수정" not in smtp.messages[1]["Subject"]
    assert workspace.scalar("SELECT count(*) FROM revisions") == 0


def test_a_cut_list_title_is_completed_from_the_post_page_and_is_no_change_later(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.cut = 20
    workspace.write(updates_config(board_server, smtp))
    workspace.run("once", check=0)
    post = board.add("산업통상자원부, 2026년 탄소중립 산업전환 지원사업 공모 개시 — 중소기업 우대")
    workspace.run("once", check=0)
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert post.title in html
    stored = workspace.run("posts", "--json", "--limit", "1", check=0).json()[0]
    assert stored["title"] == post.title
    workspace.run("once", check=0)
    board.add("그 다음 게시글")
    workspace.run("once", check=0)
    assert workspace.scalar("SELECT count(*) FROM revisions") == 0
    assert all("수정" not in m["Subject"] for m in smtp.messages)


def test_a_list_date_without_a_year_takes_the_post_pages_full_date(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.year_less = True
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    post = board.add("작년 이맘때 보도자료를 다시 올립니다")
    post.day = board.today - timedelta(days=400)  # shown as MM-DD: which year the list can't say
    workspace.run("once", check=0)
    stored: dict[str, Any] = workspace.run("posts", "--json", "--limit", "1", check=0).json()[0]
    assert stored["key"] == str(post.id) and stored["date"] == post.day.isoformat()


def test_running_number_board_deleting_one_and_adding_one_reports_only_the_new_post(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    board.delete(board.posts[4].id)  # every number below it shifts by one
    new = board.add("삭제 후 새로 올라온 게시글")
    workspace.run("once", check=0)
    (mail,) = smtp.messages
    assert mail["Subject"] == "[ESG 정책뉴스] 새 글 1건"
    assert new.title in mail.get_body(("html",)).get_content()


def test_euc_kr_board_without_a_charset_yields_correct_hangul(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.charset, board.declare_charset = "cp949", False
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    new = board.add("한글 제목이 깨지지 않아야 하는 게시글")
    workspace.run("once", check=0)
    newest = workspace.run("posts", "--json", "--limit", "1", check=0).json()[0]
    assert newest["title"] == new.title and newest["department"] == "산업통상자원부"
    assert new.title in smtp.messages[0].get_body(("html",)).get_content()


def test_layout_change_is_an_error_with_one_alert_and_the_next_good_run_clears_it(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    notify = f'[notify]\nadmin_urls = ["{smtp.url("admin@example.com")}"]\n'
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=notify))
    workspace.run("once", check=0)
    board.redesigned = True
    first, second = workspace.run("once"), workspace.run("once")
    assert (first.code, second.code) == (1, 1) and "layout" in first.err
    alerts = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    assert len(alerts) == 1 and "ESG 정책뉴스" in alerts[0]["Subject"]
    assert '"esg"' in alerts[0].get_body(("plain",)).get_content()
    (status,) = workspace.run("status", "--json").json()["boards"]
    assert status["last_result"] == "error" and "layout" in status["error"]
    board.redesigned = False
    workspace.run("once", check=0)
    alerts = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    assert len(alerts) == 2 and "recovered" in alerts[1]["Subject"]
    assert workspace.run("status", "--json").json()["boards"][0]["error"] is None


def test_init_on_a_page_that_is_not_a_board_is_a_usage_error_and_writes_nothing(
    plain: Workspace, corpus_server: str
) -> None:
    url = served(corpus_server, "esg/refuse_login_page.html")
    result = plain.run("init", url)
    assert result.code == 2, result.all
    assert url in result.err and "the board's first list page" in result.err
    assert not plain.config.exists()
