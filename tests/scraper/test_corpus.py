"""Every built-in profile against the markup corpus (`tests/fixtures/corpus/`): list pages and
post pages rendered from the engines' own templates and from real sites' variations, each with
the parse result a reader expects, written independently of the parser (but for the `legacy_*`
pages, boardwatch's first fixtures, written beside it: see the corpus README)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from parsel import Selector

from scraper.detail import read_detail
from scraper.encoding import decode
from scraper.items import Row, WalkEnd
from scraper.parse import ListPage, choose, read_list
from scraper.profiles import BUILTIN, PROBE_ORDER
from tests.support.corpus import CASES, CORPUS, DETAILS, POSTS, response

FIELDS = ("key", "number", "title", "url", "date", "new_marker", "notice", "author", "views")
READ = [c for c in CASES if "rows" in c]
REFUSED = [c for c in CASES if "refuse" in c]
EMPTY = [c for c in CASES if "empty" in c]


def page(case: dict[str, Any], profile: str | None = None) -> ListPage:
    html = decode(response(case))
    now = datetime.fromisoformat(case["now"])
    return read_list(html.selector, html.url, BUILTIN[profile or case["family"]], now)


def shown(row: Row | dict[str, Any], url: bool = True) -> dict[str, Any]:
    values = {f: row[f] for f in FIELDS if url or f != "url"}  # type: ignore[literal-required]
    if isinstance(values["date"], date):
        values["date"] = values["date"].isoformat()
    return values


@pytest.mark.parametrize("case", READ, ids=[c["file"] for c in READ])
def test_each_family_reads_its_variations(case: dict[str, Any]) -> None:
    result = page(case)
    assert result.problem is None
    expected = [shown(row) for row in case["rows"]]
    assert [shown(row) for row in result.rows] == expected


def refusal(result: ListPage) -> str | None:
    """What the crawl reports for a page it takes no posts from: the parser's problem, or, for a
    page that lists none and does not say the board is empty, how the spider ends its walk."""
    if result.problem:
        return result.problem
    return WalkEnd.EMPTY.value if not result.skims and not result.empty else None


@pytest.mark.parametrize("case", REFUSED, ids=[c["file"] for c in REFUSED])
def test_a_page_that_cannot_be_read_right_is_refused_for_its_reason(
    case: dict[str, Any],
) -> None:
    result = page(case)
    if result.rows and case["family"] != "esg" and case["file"].startswith("esg/"):
        # an ESG page read with another family's profile: header labels read it right
        assert result.rows == page(case, "esg").rows
        return
    reported = refusal(result)
    assert reported is not None and case["reason"] in reported


@pytest.mark.parametrize("case", EMPTY, ids=[c["file"] for c in EMPTY])
def test_a_board_that_says_it_has_no_posts_is_an_empty_board_not_a_refusal(
    case: dict[str, Any],
) -> None:
    result = page(case)
    assert result.problem is None and result.skims == [] and result.empty


def test_no_page_that_must_be_refused_passes_for_an_empty_board() -> None:
    assert not any(page(case).empty for case in REFUSED)


@pytest.mark.parametrize("case", READ, ids=[c["file"] for c in READ])
def test_probe_finds_a_profile_that_reads_the_page_as_its_family_does(
    case: dict[str, Any],
) -> None:
    html = decode(response(case))
    now = datetime.fromisoformat(case["now"])
    found = choose(html.selector, html.url, [BUILTIN[n] for n in PROBE_ORDER], now)
    assert found is not None
    if page(case).family:  # the page shows its engine: probe names that family
        assert found[0].name == case["family"]
    assert [shown(r) for r in found[1].rows] == [shown(r) for r in case["rows"]]


@pytest.mark.parametrize("case", DETAILS, ids=[c["file"] for c in DETAILS])
def test_esg_post_pages_are_read_by_their_labels(case: dict[str, Any]) -> None:
    html = Selector(text=(CORPUS / case["file"]).read_text(encoding="utf-8"))
    cut = case["title"][:15] + "…"
    row = Row(
        key="1",
        number=None,
        title=cut,
        url=case["url"],
        author="총괄관리자",
        date=None,
        views=None,
        new_marker=False,
        notice=False,
    )
    details = read_detail(html, case["url"], BUILTIN["esg"], row)
    assert details is not None
    assert details["department"] == case["department"]
    assert details["organisation"] == case["organisation"]
    assert details["source_url"] == case["source_url"]
    assert (details["summary"] or "").startswith(case["summary_starts"])
    assert details["attachments"] == case["attachments"]
    assert details["title"] == case["title"]
    assert (details["date"].isoformat() if details["date"] else None) == case["date"]


CHROME = ("댓글", "목록", "글쓰기", "작성자", "Captcha", "Skip to content", "공지", "File Size")


@pytest.mark.parametrize("profile", ["family", "auto"])
@pytest.mark.parametrize("case", POSTS, ids=[c["file"] for c in POSTS])
def test_a_post_pages_summary_is_its_body_and_its_files_open_for_anyone(
    case: dict[str, Any], profile: str
) -> None:
    """Real post pages of each family (posts.json): the summary is the body — never the page's
    navigation, labels, buttons, comments or comment form — read with the family's profile and
    with `auto` alike; files are named as a reader sees them and linked only where the link works
    for anyone (else to the post)."""
    html = Selector(text=(CORPUS / case["file"]).read_text(encoding="utf-8"))
    row = Row(
        key="1",
        number=None,
        title="x",
        url=case["url"],
        author=None,
        date=None,
        views=None,
        new_marker=False,
        notice=False,
    )
    chosen = BUILTIN[case["family"] if profile == "family" else "auto"]
    details = read_detail(html, case["url"], chosen, row)
    assert details is not None
    summary = details["summary"] or ""
    assert summary.startswith(case["summary"])
    assert not any(word in summary for word in CHROME)
    files = [
        {**a, "url": case["url"] if a["url"] == "POST" else a["url"]} for a in case["attachments"]
    ]
    assert details["attachments"] == files
