"""A family is one record, and its words serve its own boards and `auto` (with a user's profile,
which reads a board of any engine): another family's words never change how a family's page
reads, so adding a family changes nothing for the others (`scraper.vocabulary`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import get_type_hints

import pytest
from parsel import Selector

from scraper import keys, profiles
from scraper import vocabulary as words
from scraper.parse import compiled, read_list
from scraper.profiles import BUILTIN, Profile
from scraper.vocabulary import vocabulary
from tests.support.corpus import CASES, case, response

FAMILIES = [name for name, profile in BUILTIN.items() if not profile.any_engine]
URL = "https://board.example.kr/bbs/list"
NOW = datetime(2026, 1, 10)


def board(*titles: str) -> Selector:
    """A list table of one row per title link (HTML), read by its header labels."""
    rows = "".join(
        f"<tr><td>{n}</td><td>{title}</td><td>2026-01-0{n}</td></tr>"
        for n, title in enumerate(titles, 1)
    )
    return Selector(text=f"<table><tr><th>번호</th><th>제목</th><th>날짜</th></tr>{rows}</table>")


def keys_read(name: str | Profile, *hrefs: str) -> list[str]:
    profile = BUILTIN[name] if isinstance(name, str) else name
    page = read_list(
        board(*(f'<a href="{h}">글 {n}</a>' for n, h in enumerate(hrefs))), URL, profile, NOW
    )
    assert page.problem is None
    return page.keys


def titles_read(name: str, title: str) -> list[str]:
    page = read_list(board(f'<a href="view?no=1">{title}</a>'), URL, BUILTIN[name], NOW)
    return [row["title"] for row in page.rows]


def own_id(profile: Profile) -> str:
    """The parameter a family's links name a post by (the generic `no` when it has none)."""
    return profile.id_params[0] if profile.id_params else "no"


def only_others(family: str) -> list[str]:
    """Every id parameter another family uses and this one does not."""
    mine = set(BUILTIN[family].id_params)
    return [
        p for name in FAMILIES if name != family for p in BUILTIN[name].id_params if p not in mine
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_another_familys_id_parameter_does_not_change_how_a_familys_keys_are_read(
    family: str,
) -> None:
    """A gnuboard link that also carries `document_srl=` or `nttId=` is read by its `wr_id`;
    an XE link that carries `wr_id=` by its `document_srl`."""
    foreign = "&".join(f"{param}=9" for param in only_others(family))
    href = f"view?{foreign}&{own_id(BUILTIN[family])}=7"
    assert keys_read(family, href) == ["7"]


@pytest.mark.parametrize("family", [f for f in FAMILIES if BUILTIN[f].id_params])
def test_a_familys_id_parameter_reads_its_boards_and_autos_before_the_generic_ones(
    family: str,
) -> None:
    href = f"view?num=3&{BUILTIN[family].id_params[0]}=7"
    assert keys_read(family, href) == ["7"]
    assert keys_read("auto", href) == ["7"]
    others = [f for f in FAMILIES if BUILTIN[family].id_params[0] in only_others(f)]
    assert {other: keys_read(other, href) for other in others} == {o: ["3"] for o in others}


@pytest.mark.parametrize("family", [f for f in FAMILIES if BUILTIN[f].hidden])
def test_a_familys_hidden_classes_hide_text_on_its_boards_and_autos_only(family: str) -> None:
    hidden = BUILTIN[family].hidden[0]
    title = f'글 제목<span class="{hidden}">숨은 글</span>'
    assert titles_read(family, title) == ["글 제목"]
    assert titles_read("auto", title) == ["글 제목"]
    for other in (f for f in FAMILIES if hidden not in BUILTIN[f].hidden):
        assert titles_read(other, title) == ["글 제목 숨은 글"], other


def test_a_post_pages_id_field_is_read_by_its_familys_preference() -> None:
    """A page with KBoard's `uid` and eGov's `nttId`: each family reads its own field; `auto`
    prefers eGov's (`ID_FIELD_ORDER`: `uid` is a name other forms give a user)."""
    page = Selector(
        text='<form><input type="hidden" name="uid" value="7">'
        '<input type="hidden" name="nttId" value="251"></form>'
    ).root
    read = {name: keys.page_id(page, URL, vocabulary(BUILTIN[name])) for name in BUILTIN}
    assert (read["kboard"], read["egov"], read["auto"], read["gnuboard"]) == (
        "7",
        "251",
        "251",
        None,
    )


def test_the_egov_board_id_fills_the_link_from_the_script_on_egov_boards_and_autos() -> None:
    args = ["BBSMSTR_000000000012", "251"]
    for name in ("egov", "auto"):
        assert keys._script_fields(args, vocabulary(BUILTIN[name])) == {
            "bbsId": "BBSMSTR_000000000012"
        }
    assert keys._script_fields(args, vocabulary(BUILTIN["gnuboard"])) == {}


MADE_UP = Profile(  # a family whose words would change other boards' reading if pooled
    name="made-up-in-test_profiles",  # no real family's name: it must not replace one
    any_engine=False,
    headers=True,
    id_params=("tid",),
    not_id_params=("no",),
    hidden=("tiny-hidden",),
    clutter=".tiny-count",
    not_title=("tiny-cate",),
    labels=(("title", "글"),),
    id_fields=("tid",),
)


def test_adding_a_family_changes_nothing_for_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other family reads with the words it had, and reads its corpus pages alike; only
    `auto` (and a user's profile) learns the new family's words."""
    assert MADE_UP.name not in BUILTIN
    read_before = {c["file"]: page_rows(c) for c in one_page_per_family()}
    before = {name: vocabulary(BUILTIN[name]) for name in FAMILIES}
    monkeypatch.setitem(BUILTIN, MADE_UP.name, MADE_UP)
    assert {name: vocabulary(BUILTIN[name]) for name in FAMILIES} == before
    assert {c["file"]: page_rows(c) for c in one_page_per_family()} == read_before
    assert keys_read("gnuboard", "view?tid=9&no=7") == ["7"]
    assert keys_read("auto", "view?tid=9&no=7") == ["9"]
    assert keys_read(Profile(name="mine", headers=True), "view?tid=9&no=7") == ["9"]
    assert keys_read(MADE_UP, "view?tid=9&no=7") == ["9"]


def one_page_per_family() -> list[dict[str, object]]:
    firsts = {c["family"]: c for c in reversed(CASES) if "rows" in c}
    return list(firsts.values())


def page_rows(c: dict[str, object]) -> list[dict[str, object]]:
    html = response(case(str(c["file"])))
    page = read_list(html.selector, html.url, BUILTIN[str(c["family"])], NOW)
    return [dict(row) for row in page.rows]


def test_only_auto_of_the_built_ins_reads_with_every_familys_words() -> None:
    assert [name for name, profile in BUILTIN.items() if profile.any_engine] == ["auto"]


def test_a_users_profile_reads_with_every_familys_words_as_auto_does() -> None:
    mine = Profile(name="mine", row="li", title="a", body="div.post")
    assert vocabulary(mine) == vocabulary(BUILTIN["auto"])
    assert keys_read(replace(mine, headers=True, row="", title=""), "view?num=3&wr_id=7") == ["7"]


def test_a_profiles_words_are_resolved_once() -> None:
    for profile in BUILTIN.values():
        assert vocabulary(profile) is vocabulary(profile)


@pytest.mark.parametrize("name", [*BUILTIN, "mine"])
def test_every_profiles_selectors_are_valid(name: str) -> None:
    """A family with no clutter, body, download or writer of its own still has the generic."""
    profile = BUILTIN.get(name) or Profile(name=name, row="li", title="a")
    found = vocabulary(profile)
    for css in (found.drop, found.body, found.files, found.writer):
        assert css and not css.startswith(",")
        compiled(css)


def test_every_profile_reads_notices_and_departments_with_the_same_words() -> None:
    for profile in (*BUILTIN.values(), Profile(name="mine", row="li", title="a")):
        assert profile.notice_words == ("공지", "공지사항", "notice", "[공지]", "필독")
        assert profile.department_labels == ("담당부서", "소관부서", "담당과", "부서명", "부서")
        assert profile.drop is None  # its vocabulary's: the generic clutter and its family's


def test_a_family_labels_only_columns_the_reader_knows() -> None:
    columns = {column for p in BUILTIN.values() for column, _ in (*p.labels, *p.card_parts)}
    assert columns <= set(words.GENERIC_LABELS) | set(words.GENERIC_PART_CLASSES)


def test_the_generic_words_name_no_familys_engine_word() -> None:
    """A word of one family only is that family's; a word every board uses is generic, once."""
    for p in BUILTIN.values():
        params = {*p.id_params, *p.not_id_params, *p.board_params, *p.id_fields, *p.action_params}
        assert params.isdisjoint(
            {
                *words.GENERIC_ID_PARAMS,
                *words.GENERIC_NOT_ID_PARAMS,
                *words.GENERIC_BOARD_PARAMS,
                *words.GENERIC_ID_FIELDS,
                *words.GENERIC_ACTION_PARAMS,
            }
        ), p.name
        assert set(p.hidden).isdisjoint(words.GENERIC_HIDDEN_CLASSES), p.name
        assert set(p.not_title).isdisjoint(words.GENERIC_NOT_TITLE), p.name
        assert set(p.nav).isdisjoint(words.GENERIC_NAV), p.name


def test_adding_a_family_names_every_field_an_engine_sets() -> None:
    hints = get_type_hints(Profile, include_extras=True)
    kinds = (profiles.Words, profiles.Pairs, profiles.Css, profiles.Flag)
    engine = [n for n, h in hints.items() if h in kinds]
    assert "id_params" in engine and "any_engine" in engine
    assert [name for name in engine if f"`{name}`" not in (profiles.__doc__ or "")] == []
