"""Debian's headless Chromium, driven from the command line: `--dump-dom` prints the DOM a real
browser built for a page. What the page alone cannot tell (how wide it lays out at 390 px, what
its form does when its button is pressed) a probe page reads: served from a port of its own, it
holds the page in a frame, measures it or presses its button, and writes what it saw into its
own DOM. Only the probe's browser runs with web security off (so it may read the frame); the
pages under test never see it."""

from __future__ import annotations

import html
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

from tests.support.serving import LocalServer, PageHandler

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WAIT = "--virtual-time-budget=15000"  # virtual time: it stands still while a load is pending


class Browser:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._profiles = itertools.count()

    def unavailable(self) -> str | None:
        """Why Chromium cannot run here, or None when it can."""
        try:
            dom = self.dom("data:text/html,<p>chromium-ok</p>")
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{CHROMIUM} cannot run: {exc}"
        return None if "chromium-ok" in dom else f"{CHROMIUM} printed no DOM"

    def dom(self, url: str, *, width: int = 390, probe: bool = False) -> str:
        """The DOM Chromium builds for `url` in a window `width` pixels wide."""
        profile = self.scratch / f"chromium-{next(self._profiles)}"
        unsafe = ("--disable-web-security",) if probe else ()
        command = [
            CHROMIUM,
            *FLAGS,
            *unsafe,
            f"--user-data-dir={profile}",
            f"--window-size={width},900",
            WAIT,
            "--dump-dom",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        if done.returncode != 0:
            raise subprocess.SubprocessError(f"exit {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout

    def measure(self, url: str, width: int) -> dict[str, str]:
        """`url` laid out `width` pixels wide: its `width` (scrollWidth) and `text`."""
        script = """
        frame.addEventListener("load", () => {
          const doc = frame.contentDocument;
          document.body.dataset.width = doc.documentElement.scrollWidth;
          document.body.dataset.text = doc.body.innerText;
        });"""
        return self._probe(url, width, script)

    def press(self, url: str, selector: str) -> dict[str, str]:
        """Open `url`, press the element `selector` (a form's button), and read the page before
        (`before`) and the page that answered (`after`)."""
        script = f"""
        let loads = 0;
        frame.addEventListener("load", () => {{
          const doc = frame.contentDocument;
          loads += 1;
          if (loads === 1) {{
            document.body.dataset.before = doc.body.innerText;
            doc.querySelector({selector!r}).click();
          }} else {{
            document.body.dataset.after = doc.body.innerText;
          }}
        }});"""
        return self._probe(url, 390, script)

    def _probe(self, url: str, width: int, script: str) -> dict[str, str]:
        page = (
            "<!DOCTYPE html><html><body>"
            f'<iframe id="frame" src="{html.escape(url)}" '
            f'style="width:{width}px;height:900px;border:0"></iframe>'
            f'<script>const frame = document.getElementById("frame");{script}</script>'
            "</body></html>"
        )
        with _serving(page) as address:
            return _body_data(self.dom(address, width=width + 40, probe=True))


@contextmanager
def _serving(page: str) -> Iterator[str]:
    """`page` served at / on a loopback port of its own."""

    class Handler(PageHandler):
        def do_GET(self) -> None:
            self.send_page(200, page)

    with LocalServer(Handler) as server:
        yield server.base + "/"


def _body_data(dom: str) -> dict[str, str]:
    """The `data-*` attributes of the DOM's body, unescaped."""
    found: dict[str, str] = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "body":
                found.update(
                    {k.removeprefix("data-"): v or "" for k, v in attrs if k.startswith("data-")}
                )

    Reader().feed(dom)
    return found
