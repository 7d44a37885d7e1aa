"""Faults, hostile input and secrets, as a user and an attacker meet them: every failure one
visible line (no traceback without -v), nothing lost, nothing sent twice, nothing leaked."""

from __future__ import annotations

import gzip
import json
import re
import signal
import time
from collections import Counter

import pytest

from tests.support.board import BoardServer, EsgBoard
from tests.support.mail import PASSWORD, SmtpSink
from tests.support.slack import TOKENS, SlackRecorder
from tests.support.workspace import Workspace, esg_config, log_of, received, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")
TRACEBACK = re.compile(r"Traceback|^\s+File \"", re.MULTILINE)


def no_trace(text: str) -> None:
    assert not TRACEBACK.search(text), text
    assert "[SQL:" not in text and "INSERT INTO" not in text, text


@pytest.mark.backends("sqlite")
def test_quiet_run_prints_each_failure_in_one_line_naming_it(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    board.add("실패를 알려야 할 새 글")
    smtp.fail_with = "451 4.3.0 Try again later"
    refused = workspace.run("-q", "once")
    assert refused.code == 1
    (line,) = refused.err.strip().splitlines()
    assert "sub0" in line and "451" in line and PASSWORD not in line
    board.failures["list"] = 404
    down = workspace.run("-q", "once")
    assert down.code == 1
    lines = down.err.strip().splitlines()
    assert any(line.count("esg:") and "404" in line for line in lines)
    assert any("sub0" in line for line in lines) and len(lines) == 2
    no_trace(down.all)


@pytest.mark.long(14)
def test_a_run_whose_lease_was_taken_over_stores_nothing(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    lease = '[storage]\nlease_ttl = "5s"\n'  # a heartbeat every 1.25 s
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=lease))
    workspace.run("once", check=0)
    new = board.add_many(3)
    board.delay = 5.0
    board.requests.clear()
    with workspace.started("-q", "once") as slow:
        wait_until(lambda: board.list_requests(), 20, "the slow run's list page")
        # another host decided the lease had run out and took the board over
        workspace.sql("UPDATE locks SET owner = 'other-host:1:1:x' WHERE name LIKE 'site:%'")
        assert slow.wait(timeout=30) == 1
        log = log_of(slow)
    assert "took this board over" in log
    assert log.count("lost 1 lease(s)") == 1, log  # said once, not at every heartbeat
    stored = {p["key"] for p in workspace.run("posts", "--json", "--limit", "5", check=0).json()}
    assert not stored & {str(p.id) for p in new}
    assert smtp.messages == []


def test_no_notify_sends_nothing_not_even_an_alert_which_the_next_run_sends(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    notify = f'[notify]\nadmin_urls = ["{smtp.url("admin@example.com")}"]\nfailure_threshold = 1'
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=notify))
    workspace.run("once", check=0)
    board.failures["list"] = 503
    assert workspace.run("once", "--no-notify").code == 1
    assert smtp.messages == []
    assert workspace.run("once").code == 1  # still failing: now the admins hear of it
    (alert,) = smtp.messages
    assert alert["To"] == "admin@example.com" and "failing" in alert["Subject"]


def test_secrets_stay_out_of_every_output_and_the_store_and_each_error_is_its_own(
    workspace: Workspace,
    board_server: BoardServer,
    board: EsgBoard,
    smtp: SmtpSink,
    slack: SlackRecorder,
) -> None:
    tgram = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/4242/"
    urls = [smtp.url("one@example.com"), slack.url("esg"), tgram]
    workspace.write(esg_config(board_server, urls=urls))
    workspace.run("once", check=0)
    board.add("비밀이 새지 않아야 하는 글")
    smtp.fail_with = "451 4.3.0 Try again later"
    slack.status = 500
    outputs = [workspace.run("-vv", "once"), workspace.run("-vv", "notify-test")]
    outputs += [workspace.run("status"), workspace.run("status", "--json")]
    secrets = [PASSWORD, TOKENS[2], "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"]
    for output in outputs:
        assert not any(secret in output.all for secret in secrets), output.all
    errors = {s["name"]: s["last_error"] for s in outputs[-1].json()["subscribers"]}
    assert "451" in errors["sub0"] and "127.0.0.1" in errors["sub0"]  # the server stays readable
    assert "451" not in errors["sub1"] and "451" not in errors["sub2"]  # each error its own
    assert "slack" not in errors["sub0"] and "api.telegram.org" not in errors["sub1"]
    dump = str(workspace.rows("SELECT * FROM targets")) + str(
        workspace.rows("SELECT * FROM subscribers")
    )
    dump += str(workspace.rows("SELECT * FROM deliveries"))
    assert not any(secret in dump for secret in secrets)


@pytest.mark.long(4)
@pytest.mark.backends("sqlite")
def test_a_long_title_and_many_boards_still_make_a_deliverable_digest(
    workspace: Workspace, smtp: SmtpSink
) -> None:
    boards = [EsgBoard(posts=30) for _ in range(12)]
    servers = [BoardServer(b).__enter__() for b in boards]
    try:
        config = "[crawl]\nretries = 0\n" + "".join(
            f'\n[[boards]]\nname = "b{i}"\ntitle = "지역 ESG 정책뉴스 게시판 {i}번"\n'
            f'url = "{s.list_url}"\n'
            for i, s in enumerate(servers)
        )
        config += f'\n[[subscribers]]\nname = "all"\nurls = ["{smtp.url()}"]\n'
        workspace.write(config)
        workspace.run("once", check=0)
        for b in boards:
            b.add("새 글 " + "아주 긴 제목 " * 10_000)  # 100k characters
        start = time.monotonic()
        workspace.run("once", check=0)
        assert time.monotonic() - start < 60
    finally:
        for s in servers:
            s.__exit__(None, None, None)
    (mail,) = smtp.messages
    assert re.fullmatch(r"\[지역 ESG 정책뉴스 게시판 \d+번 외 11곳\] 새 글 12건", mail["Subject"])
    assert len(mail.get_body(("html",)).get_content()) < 200_000


def test_a_digest_the_server_refuses_as_too_large_is_sent_in_parts(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    new = board.add_many(40)
    workspace.run("once", "--no-notify", check=0)
    smtp.max_size = 30_000  # about a dozen posts
    workspace.run("digest", check=0)
    assert len(smtp.messages) > 1
    assert received(smtp, new) == Counter({p.id: 1 for p in new})
    assert workspace.run("status", "--json").json()["subscribers"][0]["pending"] == 0


def test_a_long_backlog_goes_out_in_digests_of_bounded_size(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    extra = "[notify]\nmax_digest_posts = 20"
    workspace.write(esg_config(board_server, urls=[smtp.url()], extra=extra, board="max_pages = 5"))
    workspace.run("once", check=0)
    new = board.add_many(45)
    workspace.run("once", check=0)
    assert [m["Subject"] for m in smtp.messages] == [
        "[ESG 정책뉴스] 새 글 20건",
        "[ESG 정책뉴스] 새 글 20건",
        "[ESG 정책뉴스] 새 글 5건",
    ]
    assert received(smtp, new) == Counter({p.id: 1 for p in new})


@pytest.mark.backends("sqlite")
def test_hostile_pages_cost_their_post_never_memory_or_a_mail_of_another_site(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(
        esg_config(board_server, urls=[smtp.url()], extra="", board="").replace(
            "[crawl]", '[crawl]\nmax_page_size = "1MiB"'
        )
    )
    workspace.run("once", check=0)
    huge, bomb, away = board.add("큰 페이지"), board.add("압축 폭탄"), board.add("다른 곳으로")
    board.raw[detail(huge.id)] = (200, {"Content-Type": "text/html"}, b"<p>x</p>" * 1_000_000)
    bombed = gzip.compress(b"<p>" + b"0" * 200_000_000 + b"</p>")
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    board.raw[detail(bomb.id)] = (200, headers, bombed)
    elsewhere = "http://127.0.0.2:9/internal/secret-report"
    board.raw[detail(away.id)] = (302, {"Location": elsewhere}, b"")
    result = workspace.run("once")
    assert result.code == 0, result.all  # the posts are stored and sent, without those pages
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert all(p.title in html for p in (huge, bomb, away)) and "secret-report" not in html
    stored = {p["key"]: p for p in workspace.run("posts", "--json", check=0).json()}
    assert stored[str(away.id)]["summary"] is None
    board.raw["list"] = (302, {"Location": "http://127.0.0.2:9/elsewhere"}, b"")
    moved = workspace.run("-q", "once")
    assert moved.code == 1 and "another site" in moved.err
    no_trace(moved.all)


def detail(post_id: int) -> str:
    return f"/bbs/board.php?bo_table=esg_news&no={post_id}&page=1"


@pytest.mark.backends("sqlite")
def test_a_page_declared_utf8_but_sent_in_euc_kr_reads_as_hangul(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    board.charset, board.declare_charset, board.meta_charset = "cp949", False, "utf-8"
    workspace.write(esg_config(board_server, urls=[smtp.url()]))
    workspace.run("once", check=0)
    post = board.add("선언은 UTF-8, 내용은 EUC-KR인 게시글")
    workspace.run("once", check=0)
    assert (
        workspace.run("posts", "--json", "--limit", "1", check=0).json()[0]["title"] == post.title
    )


@pytest.mark.backends("sqlite")
def test_a_misspelt_target_scheme_is_a_config_error_before_any_board_is_crawled(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard
) -> None:
    workspace.write(esg_config(board_server, urls=["mialto://ops@example.com"]))
    board.requests.clear()
    result = workspace.run("once")
    assert result.code == 2 and "subscribers[0].urls[0]" in result.err and "mialto" in result.err
    assert board.requests == []


@pytest.mark.backends("sqlite")
def test_a_relative_sqlite_path_is_beside_the_config_file(
    workspace: Workspace, board_server: BoardServer, smtp: SmtpSink
) -> None:
    folder = workspace.path / "etc"
    folder.mkdir()
    config = folder / "scrape.toml"
    text = esg_config(board_server, urls=[smtp.url()])
    config.write_text(text + '\n[storage]\nurl = "sqlite:///state/bw.db"\n', encoding="utf-8")
    (folder / "state").mkdir()
    workspace.env["SCRAPE_DATABASE_URL"] = ""
    workspace.run("--config", str(config), "once", check=0)
    assert (folder / "state" / "bw.db").exists() and not (workspace.path / "state").exists()


@pytest.mark.long(6)
def test_sigterm_mid_crawl_is_an_interruption_not_a_failure(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    workspace.run("once", check=0)
    board.delay = 20.0  # the next crawl hangs on the list page
    board.requests.clear()
    with workspace.started("run") as daemon:
        wait_until(lambda: board.list_requests(), 20, "the daemon's crawl")
        daemon.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = daemon.wait(timeout=15)
        took = time.monotonic() - signalled
        assert code == 0, log_of(daemon)
        assert took < 5, f"exit {took:.1f} s after SIGTERM, with a download hanging"
        log = log_of(daemon)
    (status,) = workspace.run("status", "--json", check=0).json()["boards"]
    assert status["last_result"] == "ok" and status["fail_streak"] == 0, log
    assert "stopped" in log and re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", log, re.M)
    no_trace(log)


@pytest.mark.long(4)
def test_sighup_reloads_the_config_and_a_bad_one_is_refused_while_the_daemon_goes_on(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    workspace.write(
        esg_config(board_server, urls=[smtp.url("first@example.com")], board='interval = "1s"')
    )
    workspace.run("once", check=0)
    with workspace.started("run") as daemon:
        wait_until(lambda: workspace.runs() >= 2, 20, "the daemon's first crawl")
        workspace.write(
            esg_config(board_server, urls=[smtp.url("second@example.com")], board='interval = "1s"')
        )
        daemon.send_signal(signal.SIGHUP)
        wait_until(lambda: "config reloaded" in log_of(daemon), 20, "the reload")
        post = board.add("다시 읽은 설정으로 받는 글")
        wait_until(lambda: len(smtp.messages) >= 1, 20, "the digest")
        assert [m["To"] for m in smtp.messages] == ["second@example.com"]
        workspace.write("timezone = ")
        daemon.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeping the running config" in log_of(daemon), 20, "the refusal")
        seen = workspace.runs()
        wait_until(lambda: workspace.runs() >= seen + 1, 20, "a crawl after the refusal")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
    assert post.title in smtp.messages[0].get_body(("html",)).get_content()


@pytest.mark.long(9)
@pytest.mark.backends("postgresql")  # needs a database server to take away and bring back
def test_a_database_outage_is_one_line_per_cycle_and_a_database_recreated_empty_is_upgraded(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    from sqlalchemy import create_engine, text

    admin_url, name = workspace.db_url.rsplit("/", 1)
    admin = create_engine(f"{admin_url}/postgres", isolation_level="AUTOCOMMIT")
    workspace.write(esg_config(board_server, urls=[smtp.url()], board='interval = "1s"'))
    with workspace.started("run") as daemon:
        wait_until(lambda: workspace.runs() >= 2, 30, "the daemon's first crawls")
        with admin.connect() as conn:  # the database goes away …
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        wait_until(lambda: log_of(daemon).count("failed:") >= 2, 30, "failed cycles")
        with admin.connect() as conn:  # … and comes back empty
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        wait_until(lambda: workspace.runs() >= 1, 30, "a crawl into the new database")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
        log = log_of(daemon)
    admin.dispose()
    no_trace(log)
    failures = [line for line in log.splitlines() if "failed:" in line]
    assert all(line.count("\n") == 0 and len(line) < 400 for line in failures)
    # the database went away between crawls (the claim failed) or during one
    assert "claiming due boards failed: " in log or "crawl of esg failed: " in log


def secrets_of_urls() -> list[str]:
    return [TOKENS[1], TOKENS[2], "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", PASSWORD]


def test_verbosity_never_changes_what_is_valid_nor_lets_a_secret_out(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, slack: SlackRecorder
) -> None:
    """-vv shows third-party debug lines: Apprise's own, which print webhook paths and bot
    tokens in full. They are masked like every other line, and they never change a verdict."""
    tgram = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/4242/"
    urls = ["json://127.0.0.1:9/hook", tgram, slack.url("esg")]
    subs = f'\n[[subscribers]]\nname = "team"\nurls = {json.dumps(urls)}\n'
    workspace.write(esg_config(board_server, urls=[], subscribers=subs))
    assert workspace.run("-vv", "check").code == 0
    assert workspace.run("check").code == 0
    outputs = [workspace.run("-vv", "once", check=0)]
    board.add("디버그 출력에도 비밀이 새지 않아야 하는 글")
    slack.status = 500
    outputs += [workspace.run("-vv", "--log-format", "json", "once")]
    outputs += [workspace.run("-vv", "notify-test"), workspace.run("status", "--json")]
    assert outputs[1].code == 1 and "DEBUG" in outputs[1].err  # the debug lines are there …
    for output in outputs:  # … and no secret in any of them
        assert not any(secret in output.all for secret in secrets_of_urls()), output.all
    assert "json://127.0.0.1:9/hook" in outputs[1].err  # nothing but the secrets is hidden
    stored = workspace.rows("SELECT last_error FROM deliveries WHERE last_error IS NOT NULL")
    stored += workspace.rows("SELECT last_error FROM subscribers")
    assert stored and not any(s in str(stored) for s in secrets_of_urls()), stored


def test_each_failed_send_says_its_cause_and_only_a_refusal_as_too_large_splits_a_digest(
    workspace: Workspace, board_server: BoardServer, board: EsgBoard, smtp: SmtpSink
) -> None:
    wrong = smtp.url("auth@example.com").replace(PASSWORD, "wrong-password")
    urls = ["json://127.0.0.1:9/hook", wrong]
    workspace.write(esg_config(board_server, urls=urls))
    workspace.run("once", check=0)
    board.add_many(3)
    failed = workspace.run("-q", "once")
    lines = failed.err.strip().splitlines()
    assert failed.code == 1 and len(lines) == 2, failed.err  # one line a failed target
    refused = next(line for line in lines if "sub0" in line)
    assert "json://127.0.0.1:9/hook" in refused and "connection refused" in refused
    assert "3 post(s)" in refused and "too large" not in failed.err
    auth = next(line for line in lines if "sub1" in line)
    assert "authentication refused" in auth and "535" in auth
    status = {s["name"]: s for s in workspace.run("status", "--json").json()["subscribers"]}
    assert status["sub0"]["pending"] == 3 and status["sub1"]["pending"] == 3
    assert status["sub1"]["last_error"].endswith("Authentication credentials invalid'))")
