"""Every way a board's page can fail, as `scrape -q once` says it: one line per board, naming it,
the cause in our words first and then what to do — no class names, no `Failure` reprs, no
library phrases. One run of the real command over one board per kind of failure."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from tests.support.serving import LocalServer, PageHandler
from tests.support.workspace import Workspace

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.backends("sqlite")]

# board -> (its path on the failing site, or a whole URL; what its line must say)
KINDS: dict[str, tuple[str, str]] = {
    "refused": ("http://127.0.0.1:{closed}/list", "refused the connection; is the site up"),
    "tls": ("https://127.0.0.1:{port}/list", "speaks plain HTTP, not HTTPS; use http://"),
    "dns": ("http://no-such-host.invalid/list", "not found (DNS); check the host name"),
    "timeout": ("http://127.0.0.1:{silent}/list", "did not answer within 2 s"),
    "forbidden": ("/403", "HTTP 403 Forbidden: the site refuses the request"),
    "missing": ("/404", "HTTP 404 Not Found: no page at this address; check the board's url"),
    "broken": ("/500", "HTTP 500 Internal Server Error: the site failed to answer"),
    "huge": ("/big", "larger than max_page_size (64 KiB); it was not read; raise [crawl]"),
    "robots": ("/private/list", "robots.txt disallows the list page"),
    "elsewhere": ("/away", "redirected to http://127.0.0.1:{closed}/x, another site"),
}
LIBRARY_WORDS = re.compile(  # class names (DownloadFailedError), reprs, library phrases
    r"\b(?:[A-Z][a-z]+){2,}(?:Error|Exception)\b|Failure|twisted|Ignoring non-200|as allowed"
)


class _Site(PageHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            return self.send_page(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path in ("/403", "/404", "/500"):
            return self.send_page(int(path[1:]), b"<html><body>no</body></html>")
        if path == "/big":
            return self.send_page(200, b"<html><body>" + b"x" * 200_000 + b"</body></html>")
        if path == "/away":
            return self.send_redirect(f"http://127.0.0.1:{self.server.closed}/x")  # type: ignore[attr-defined]
        return self.send_page(404, b"")


@pytest.fixture
def ports() -> Iterator[dict[str, int]]:
    """A site answering each failure; a port nothing listens on; one that accepts and never
    answers."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        with LocalServer(_Site, closed=closed.getsockname()[1]) as site:
            yield {
                "port": site.httpd.server_address[1],
                "closed": closed.getsockname()[1],
                "silent": silent.getsockname()[1],
            }
    finally:
        silent.close()
        closed.close()


@pytest.mark.long(5)
def test_each_kind_of_board_failure_is_one_line_in_our_words(
    workspace: Workspace, ports: dict[str, int]
) -> None:
    boards = ""
    for name, (where, _) in KINDS.items():
        url = (
            where.format(**ports) if "://" in where else f"http://127.0.0.1:{ports['port']}{where}"
        )
        boards += f'\n[[boards]]\nname = "{name}"\nurl = "{url}"\nprofile = "auto"\n'
    workspace.write(f'[crawl]\nretries = 0\ntimeout = 2\nmax_page_size = "64KiB"\n{boards}')
    workspace.env.clear()  # no proxy: the https:// board must meet the plain-HTTP port itself
    result = workspace.run("-q", "once")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == len(KINDS), result.err  # one line a board, nothing else
    for name, (_, says) in KINDS.items():
        (line,) = [line for line in lines if f" {name}: " in line]
        for part in says.format(**ports).split("; "):  # the cause, (the address,) what to do
            assert part in line, line
        assert not LIBRARY_WORDS.search(line), line
