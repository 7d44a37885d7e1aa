"""One origin per board: every request for a board goes to its own scheme, host and port (or to
an origin its config lists), and the one middleware every request passes holds it."""

from __future__ import annotations

import re

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from scraper.items import BoardTask
from scraper.middlewares import ORIGINS, OriginMiddleware
from scraper.origins import origin_of, within
from scraper.profiles import BUILTIN

BOARD = "https://www.agency.go.kr/board/list.do?menuNo=1"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.agency.go.kr/board/list.do", "https://www.agency.go.kr:443"),
        ("https://WWW.Agency.go.kr:443/x", "https://www.agency.go.kr:443"),
        ("http://www.agency.go.kr/x", "http://www.agency.go.kr:80"),
        ("http://127.0.0.1:8080/view.do?nttId=5", "http://127.0.0.1:8080"),
        ("http://127.0.0.2:8080/view.do", "http://127.0.0.2:8080"),
        ("/relative/path", ""),
        ("http://a b/", "http://a b:80"),
        ("http://[::1]:99999/", ""),
    ],
)
def test_an_origin_is_scheme_host_and_port(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("url", "fetched"),
    [
        ("https://www.agency.go.kr/board/view.do?id=5", True),
        ("https://www.agency.go.kr:8443/board/view.do?id=5", False),  # another port
        ("http://www.agency.go.kr/board/view.do?id=5", False),  # another scheme
        ("https://agency.go.kr/board/view.do?id=5", False),  # another host
        ("https://m.agency.go.kr/board/view.do?id=5", True),  # listed in also_fetch
        ("http://127.0.0.1/internal", False),
    ],
)
def test_a_board_fetches_from_its_own_origin_and_those_it_lists(url: str, fetched: bool) -> None:
    task = BoardTask("b", BOARD, BUILTIN["auto"], also_fetch=("https://m.agency.go.kr",))
    assert task.fetches(url) is fetched


def test_every_request_off_its_boards_origins_is_refused_by_the_middleware() -> None:
    middleware, allowed = OriginMiddleware(), frozenset({origin_of(BOARD)})
    assert middleware.process_request(Request(BOARD, meta={ORIGINS: allowed})) is None
    with pytest.raises(IgnoreRequest, match="another site than the board's own"):
        middleware.process_request(Request("http://127.0.0.1:9/", meta={ORIGINS: allowed}))
    hop = Request(
        "http://127.0.0.1:9/x", meta={ORIGINS: allowed, "redirect_urls": [BOARD]}
    )  # a redirect Scrapy's middleware made: it comes back through here
    with pytest.raises(IgnoreRequest, match=re.escape("redirected to http://127.0.0.1:9/x")):
        middleware.process_request(hop)
    with pytest.raises(IgnoreRequest):  # a request that names no board is never made
        middleware.process_request(Request(BOARD))
    assert within(BOARD, allowed)
