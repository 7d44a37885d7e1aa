"""The local sites' server: a client's hang-up is no error to print, anything else is."""

from __future__ import annotations

import http.client

import pytest

from tests.support.serving import LocalServer, PageHandler


class _Failing(PageHandler):
    def do_GET(self) -> None:
        if self.path == "/hung-up":
            raise ConnectionResetError("the client went away")
        raise ValueError("a bug in the handler")


@pytest.mark.parametrize(
    ("path", "printed"), [("/hung-up", False), ("/bug", True)], ids=["hang-up", "bug"]
)
def test_only_a_real_error_of_a_local_site_is_printed(
    path: str, printed: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalServer(_Failing) as server:
        conn = http.client.HTTPConnection(server.base.removeprefix("http://"), timeout=10)
        conn.request("GET", path)
        # the server closes the connection only after its error was handled (or printed)
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
        conn.close()
    err = capsys.readouterr().err
    assert ("Traceback" in err) is printed, err
    assert ("a bug in the handler" in err) is printed, err
