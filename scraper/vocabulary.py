"""The words a reader knows a board by: those any board uses, and those a family's engine prints
(`Profile.id_params`, `hidden`, `clutter` …), resolved once per profile (`vocabulary`).

A family's words serve its own boards, and the profiles that read a board of any engine — `auto`
and a user's `[profiles.NAME]` (`Profile.any_engine`) — never another family's: a new family's
`id_params` changes how no other family's keys are read. The generic readers (`keys`, `tables`,
`text`, `parse`, `detail`, `cards`, `pager`) are handed a `Vocabulary` and hold no engine word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from scraper.profiles import BUILTIN, ID_FIELD_ORDER, Profile

T = TypeVar("T")

# Query parameters that name a post, in order of preference, after a family's own (`wr_id=` …).
GENERIC_ID_PARAMS = (
    "no",
    "newsid",
    "idx",
    "seq",
    "articleno",
    "article_no",
    "articleseq",
    "boardseq",
    "board_seq",
    "bbs_seq",
    "post_id",
    "num",
    "id",
    "p",
)
# Numeric parameters that never name a post: paging, sorting, searching, board ids (with a
# family's page, board, comment and category parameters).
GENERIC_NOT_ID_PARAMS = frozenset(
    {
        "page",
        "page_id",
        "cpage",
        "npage",
        "pagesize",
        "category",
        "cate",
        "menuid",
        "menu_id",
        "year",
        "month",
        "tab",
    }
)
# Hidden fields that carry a post's own id on its page, after a family's (`Profile.id_fields`);
# query parameters of a post's own actions (reply, edit), with a family's `action_params`.
GENERIC_ID_FIELDS = ("article_no", "post_id")
GENERIC_ACTION_PARAMS = frozenset({"mode", "mod"})
# Query parameters that name a board, after a family's: a link whose value differs is another's.
GENERIC_BOARD_PARAMS = ("board", "bbs", "code", "bid", "boardid", "board_id")
# What a part of a card says it is, by its class (a family's `card_parts` join the alternation).
GENERIC_PART_CLASSES = {
    "date": r"date|time|regdate|day|when",
    "author": r"writer|author|name|user|nick|dept",
    "views": r"view|hit|read|count",
    "number": r"^(?:num|no|number)$",
}
# The labels of each column any board may print (normalised: case-folded, without spaces or
# punctuation), before a family's (`Profile.labels`). The order is a preference: a table may
# show 게시시작일 or 최근 수정일 beside 작성일.
GENERIC_LABELS: dict[str, tuple[str, ...]] = {
    "number": ("번호", "no", "num", "number", "순번", "연번", "글번호"),
    "title": ("제목", "title", "subject", "글제목", "게시물제목"),
    "author": (
        "글쓴이",
        "작성자",
        "등록자",
        "이름",
        "작성",
        "author",
        "writer",
        "name",
        "postedby",
    ),
    "date": (
        "작성일",
        "등록일",
        "날짜",
        "date",
        "작성일자",
        "등록일자",
        "게시일",
        "일자",
        "posted",
    ),
    "views": ("조회", "조회수", "hit", "hits", "views", "view", "readcount", "읽음"),
}
# Classes whose text a reader does not see as part of the cell (or sees twice): screen-reader
# text by each convention's name (Naver's `blind`, Bootstrap's `sr-only`, Kakao's `screen_out`,
# gnuboard's `sound_only`, which boards of other engines and gnuboard-built sites print too),
# mobile-only copies, menus.
GENERIC_HIDDEN_CLASSES = frozenset(
    {
        "sound_only",
        "blind",
        "sr-only",
        "screen_out",
        "visually-hidden",
        "hidden",
        "hide",
        "mobile",
        "m_only",
        "mobile-only",
        "visible-xs",
        "skip",
        "dropdown-menu",
    }
)
# Inside a title, not part of it (with a family's `clutter`): what a profile's `drop` defaults to.
GENERIC_DROP = ".comment_count, .category, .cate, .cmt, .comment, .blind, .sr-only"
# Beside a title, not it: links so classed (with a family's `not_title`), links to a post's
# comments (with a family's `comment_params`), category filters (with its `category_params`).
GENERIC_NOT_TITLE = frozenset({"category", "cate", "comment", "cmt"})
GENERIC_COMMENT_LINKS = ("#comment", "_comment")
GENERIC_CATEGORY_LINKS = ("category=",)
# Where any skin keeps a post page's body, attachments and writer (with a family's `body`,
# `downloads`, `writer`), and the class words of its prev/next lists (with a family's `nav`).
GENERIC_BODY = ".view_content, .view-body, td.cont, .view_text"
GENERIC_FILES = (
    "a[href*='download.do'], a[href*='fileDown'], a[href*='filedown'], a.file-download,"
    " a.file_download"
)
GENERIC_WRITER = "li.writer, .writer, .author, .name"
GENERIC_NAV = ("prev", "next", "nav", "pager")


@dataclass(frozen=True, kw_only=True)
class Vocabulary:
    """What the readers know a board by under one profile: the generic words with its family's
    (every family's, for a profile that reads any board), each in its order of preference."""

    id_params: tuple[str, ...]  # query parameters that name a post, by preference
    not_id_params: frozenset[str]  # numeric query parameters that never do
    script_fields: tuple[tuple[str, str], ...]  # (field, prefix) a script argument fills
    id_fields: tuple[str, ...]  # a post page's hidden fields that carry its id, by preference
    action_params: frozenset[str]  # query parameters of a post's own actions
    board_params: tuple[str, ...]  # query parameters that name a board
    part_classes: Mapping[str, re.Pattern[str]]  # a card's part, by its class
    labels: Mapping[str, tuple[str, ...]]  # a column's header labels, by preference
    hidden: frozenset[str]  # classes whose text a reader does not see
    drop: str  # inside a title, not part of it (CSS)
    not_title: frozenset[str]  # classes of the links beside a title
    comment_links: tuple[str, ...]  # in a link to a post's comments
    category_links: tuple[str, ...]  # in a category filter's link
    body: str  # a post page's body (CSS)
    files: str  # its download links (CSS)
    writer: str  # where it names its writer (CSS)
    nav: tuple[str, ...]  # class words of its prev/next lists


def vocabulary(profile: Profile) -> Vocabulary:
    """The words `profile` reads with: its own family's, or — for `auto` and a user's profile,
    which read a board of any engine — every built-in family's, in `BUILTIN` order."""
    return _resolved(families(profile))


def families(profile: Profile) -> tuple[Profile, ...]:
    """The families whose engine words `profile` reads with."""
    return tuple(BUILTIN.values()) if profile.any_engine else (profile,)


def any_board() -> Vocabulary:
    """Every family's words, as `auto` reads with them: for a page no profile is known for."""
    return vocabulary(BUILTIN["auto"])


@functools.lru_cache(maxsize=64)
def _resolved(sources: tuple[Profile, ...]) -> Vocabulary:
    """Resolved once per set of families, so a page pays nothing for it."""

    def pool(of: Callable[[Profile], Iterable[T]], order: Sequence[str] = ()) -> tuple[T, ...]:
        return _pooled(sources, of, order)

    def css(of: Callable[[Profile], str | None], generic: str) -> str:
        return ", ".join(dict.fromkeys([*pool(lambda p: _parts(of(p))), *_parts(generic)]))

    def links(of: Callable[[Profile], Iterable[str]]) -> tuple[str, ...]:
        return tuple(f"{name}=" for name in pool(of))

    return Vocabulary(
        id_params=(*pool(lambda p: p.id_params), *GENERIC_ID_PARAMS),
        not_id_params=GENERIC_NOT_ID_PARAMS.union(pool(_never_ids)),
        script_fields=pool(lambda p: p.script_fields),
        id_fields=(*pool(lambda p: p.id_fields, ID_FIELD_ORDER), *GENERIC_ID_FIELDS),
        action_params=GENERIC_ACTION_PARAMS.union(pool(lambda p: p.action_params)),
        board_params=(*pool(lambda p: p.board_params), *GENERIC_BOARD_PARAMS),
        part_classes=_part_classes(pool(lambda p: p.card_parts)),
        labels=_labels(pool(lambda p: p.labels)),
        hidden=GENERIC_HIDDEN_CLASSES.union(pool(lambda p: p.hidden)),
        drop=css(lambda p: p.clutter, GENERIC_DROP),
        not_title=GENERIC_NOT_TITLE.union(pool(lambda p: p.not_title)),
        comment_links=(*GENERIC_COMMENT_LINKS, *links(lambda p: p.comment_params)),
        category_links=(*links(lambda p: p.category_params), *GENERIC_CATEGORY_LINKS),
        body=css(lambda p: p.body, GENERIC_BODY),
        files=css(lambda p: p.downloads, GENERIC_FILES),
        writer=css(lambda p: p.writer, GENERIC_WRITER),
        nav=(*GENERIC_NAV, *pool(lambda p: p.nav)),
    )


def _never_ids(profile: Profile) -> tuple[str, ...]:
    """A family's numeric query parameters that never name a post: its paging, sorting and
    searching, its board, comment and category parameters."""
    return (
        *profile.not_id_params,
        *profile.board_params,
        *profile.comment_params,
        *profile.category_params,
        profile.page_param.lower(),
    )


def _pooled(
    sources: tuple[Profile, ...], of: Callable[[Profile], Iterable[T]], order: Sequence[str]
) -> tuple[T, ...]:
    """What the families know of one kind, each once, in their order (those named in `order`
    first, in that order)."""
    first = [profile for name in order for profile in sources if profile.name == name]
    ordered = [*first, *(profile for profile in sources if profile.name not in order)]
    return tuple(dict.fromkeys(item for profile in ordered for item in of(profile)))


def _parts(css: str | None) -> list[str]:
    return [part.strip() for part in (css or "").split(",") if part.strip()]


def _part_classes(family: tuple[tuple[str, str], ...]) -> dict[str, re.Pattern[str]]:
    """Each card part's class words as one pattern: the generic words, then the families'."""
    return {
        name: re.compile(
            "|".join([words, *(re.escape(w) for part, w in family if part == name)]), re.IGNORECASE
        )
        for name, words in GENERIC_PART_CLASSES.items()
    }


def _labels(family: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, ...]]:
    """Each column's header labels: the generic ones, then the families' (a preference)."""
    return {
        name: (*said, *(w for n, w in family if n == name)) for name, said in GENERIC_LABELS.items()
    }
