"""The starter `scrape.toml` that `scrape init` writes: the packaged example, or, given a board's
address, one that watches that board with the profile `probe` chose, named after its title."""

from __future__ import annotations

import json
import re
import unicodedata
from importlib.resources import files
from urllib.parse import parse_qsl, urlsplit


def starter() -> str:
    return files("scheduler.config").joinpath("starter.toml").read_text("utf-8")


def starter_for(starter: str, url: str, profile: str, heading: str = "") -> str:
    """The starter config, watching the board at `url` with `profile`, titled as the board's
    page names it (`heading`) and named after that title in ASCII (`slug`); a title with
    nothing to spell so is named from its address."""
    name = slug(heading) or board_name(url)
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


# Revised Romanization of Korean, letter by letter: each syllable's initial, vowel and final
# (no sound changes between syllables: 정책뉴스 → jeongchaeknyuseu, 공지사항 → gongjisahang).
# fmt: off
_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k",
             "t", "p", "h")
_VOWELS = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
           "we", "wi", "yu", "eu", "ui", "i")
_FINALS = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p",
           "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")
# fmt: on
_SYLLABLES = range(0xAC00, 0xAC00 + 19 * 21 * 28)
LONGEST = 40


def slug(title: str) -> str:
    """A board name from its title, in ASCII: letters and digits as they are, Hangul
    romanized, every other run of characters one `-`, at most LONGEST characters (whole
    words); "" where the title has nothing to spell so (the caller falls back)."""
    spelled = "".join(_romanized(ch) for ch in unicodedata.normalize("NFKC", title).lower())
    words = [w for w in re.split(r"[^a-z0-9]+", spelled) if w]
    name = ""
    for word in words:
        joined = f"{name}-{word}" if name else word
        if len(joined) > LONGEST:
            return name or word[:LONGEST]
        name = joined
    return name


def _romanized(ch: str) -> str:
    if ord(ch) not in _SYLLABLES:
        return ch if ch.isascii() else " "
    code = ord(ch) - _SYLLABLES.start
    parts = (_INITIALS[code // 588], _VOWELS[code % 588 // 28], _FINALS[code % 28])
    return "".join(parts)
