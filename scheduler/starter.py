"""The starter `scrape.toml` that `scrape init` writes: the packaged example, or, given a board's
address, one that watches that board with the profile `probe` chose, named from its address."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from urllib.parse import parse_qsl, urlsplit


def starter() -> str:
    return files("scheduler").joinpath("starter.toml").read_text("utf-8")


def starter_for(starter: str, url: str, profile: str, heading: str = "") -> str:
    """The starter config, watching the board at `url` with `profile`, titled as the board's
    page names it (`heading`), named in short ASCII from its address."""
    name = board_name(url)
    title = json.dumps(heading[:200] or name, ensure_ascii=False)
    return (
        starter.replace(STARTER_URL, url)
        .replace('name = "esg"', f'name = "{name}"')
        .replace('title = "ESG 정책뉴스"', f"title = {title}")
        .replace('profile = "esg"', f'profile = "{profile}"')
        .replace('boards = ["esg"]', f'boards = ["{name}"]')
        .replace('name = "esg-team"', f'name = "{name}-readers"')
        .replace("to=esg-team@localhost", f"to={name}-readers@localhost")
        .replace("#esg-news", f"#{name}")
        .replace(
            "# REPLACE with the address of the board's first list page",
            "# the board's first list page",
        )
    )


STARTER_URL = "https://esg.example.kr/bbs/board.php?bo_table=esg_news&page=1"


def board_name(url: str) -> str:
    """A board name from its address: `bo_table`, `mid` or `bbsId`, else its path, else host."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key in ("bo_table", "mid", "bbsId", "board", "bbs", "code"):
        if query.get(key):
            return _slug(query[key])
    words = [w for w in parts.path.split("/") if w and "." not in w]
    host = parts.hostname or ""
    site = "" if host.replace(".", "").isdigit() else host.split(".")[0]
    return _slug(words[-1] if words else site or "board")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-") or "board"
