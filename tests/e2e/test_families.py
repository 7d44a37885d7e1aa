"""Board families end to end: `scrape probe`, running numbers, EUC-KR, layout alarms."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.scraper.test_families import FAMILIES
from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import SmtpSink
from tests.support.workspace import Workspace, esg_config

pytestmark = pytest.mark.filterwarnings("ignore")
FIXTURES = Path(__file__).parents[1] / "fixtures"


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {".html": "text/html"}  # no charset given

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fixture_server() -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(FIXTURES))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("family", FAMILIES)
def test_probe_prints_the_rows_of_each_family(
    workspace: Workspace, fixture_server: str, family: str
) -> None:
    fixture, list_url, expected = FAMILIES[family]
    query = list_url.partition("?")[2]
    result = workspace.run(
        "probe", f"{fixture_server}/{fixture}?{query}", "--profile", family, check=0
    )
    lines = [line.split("\t") for line in result.out.splitlines()]
    assert [(c[0], c[1], c[3], c[4]) for c in lines] == [
        (key, number or "", "New" if new else "", title)
        for key, number, _notice, new, title, *_ in expected
    ]
    assert all(len(c) == 6 and c[2][:2] == "20" and c[0] in c[5] for c in lines)


def test_probe_with_the_wrong_profile_says_so(workspace: Workspace, fixture_server: str) -> None:
    result = workspace.run("probe", f"{fixture_server}/xe_list.html", "--profile", "kboard")
    assert result.code == 1 and "no rows parsed with profile 'kboard'" in result.err
    assert workspace.run("probe", f"{fixture_server}/xe_list.html", "--profile", "nope").code == 2


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
