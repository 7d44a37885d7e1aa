"""Board profiles: a board family as one record, with everything it knows as data.

Selectors are CSS, or XPath when they start with `/` or `./`; cell selectors are relative to the
row. The built-ins and a user's `[profiles.NAME]` go through the same `Profile` record. A profile
with `headers = true` reads a table by its header labels (번호 / 제목 / 글쓴이 / 날짜 / 조회, or
No. / Title / Author / Date / Views; see `scraper.tables`): its selectors are then hints that win
where they match — a skin's class names — never a requirement. Every built-in does.

What an engine says of itself — the query parameters that name a post, a board or an action,
the hidden fields that carry a post's id, the header labels, the classes it hides text in or marks
links and parts with, the clutter in its titles, its download links, its script arguments — is set
by the built-ins only, and serves that family: a gnuboard board is read with gnuboard's words and
the generic ones, never with XE's. `auto` and a user's `[profiles.NAME]` read a board of any
engine (`any_engine`), so they read with every family's. `scraper.vocabulary` resolves a profile's
words once; the generic modules (`keys`, `tables`, `text`, `parse`, `detail`, `cards`) are handed
them and hold no engine word.

Adding a family
---------------
1. One `Profile` entry in `BUILTIN`: `signature` (what shows a page is the engine's: `probe`
   prefers a family whose signature the page shows), `headers=True` with `row`/`title`/cell
   selectors as hints, `notice`/`new_marker` where the skin marks them, `page_param`, `link`
   for script-only links (and `script_fields` for the script arguments it needs), the post
   page's `body`/`department`/`organisation`/`attachments`, and what the engine says of itself:
   in its list, `id_params`, `not_id_params`, `board_params`, `labels`, `hidden`, `clutter`,
   `not_title`, `comment_params`, `category_params`, `card_parts`; on a post's page, `id_fields`,
   `action_params`, `nav`, `downloads`, `writer`; and `any_engine=False`, so that it reads with
   its own words. Only what the engine really prints belongs there (its pages read with no other
   family's); a word every board uses is generic (`scraper.vocabulary`). Its words serve its own
   boards and `auto`, whose pool follows `BUILTIN`'s order (`id_fields`: `ID_FIELD_ORDER`'s, then
   the families it does not name): a new family goes last, and no other family reads
   differently for it (`tests/scraper/test_profiles.py` checks that).
2. Its name in `PROBE_ORDER`: where two profiles read a page equally well, the earlier wins.
3. Real pages under `tests/fixtures/corpus/<family>/`, as the engine serves them (see the corpus
   README), each a case in `cases.json` with `family` set to the new name and one of `rows`
   (every post in page order: key, number, title, url, date, new_marker, notice, author,
   views), `refuse` or `empty`. `tests/scraper/test_corpus.py` then reads each page with the
   family's profile and expects exactly those rows (a `refuse` page, with the `reason` it is
   refused for: the parser's problem, or "held no post"; an `empty` one: no posts and `empty`),
   and `probe` over `PROBE_ORDER` must read the same rows,
   naming the new family wherever the page shows its signature.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

# What any Korean board says, unless a profile says otherwise. Notice words are compared
# case-folded; the first department label is the one a `department` element may start with.
NOTICE_WORDS = ("공지", "공지사항", "notice", "[공지]", "필독")
DEPARTMENT_LABELS = ("담당부서", "소관부서", "담당과", "부서명", "부서")


def _built_in_only(value: object) -> object:
    """A user's `[profiles.NAME]` says where a board keeps things; what an engine says of
    itself comes from the built-in families (a user's profile reads with all of it)."""
    raise ValueError("is known from the built-in families only; it cannot be set here")


_ENGINE = AfterValidator(_built_in_only)  # checked on a user's config only, never on BUILTIN
Words = Annotated[tuple[str, ...], _ENGINE]
Pairs = Annotated[tuple[tuple[str, str], ...], _ENGINE]
Css = Annotated[str | None, _ENGINE]
Flag = Annotated[bool, _ENGINE]


@dataclass(frozen=True)
class Profile:
    name: str
    row: str = ""  # one post per match (with `headers`: only a hint to the list's table)
    title: str = ""  # the title link within a row
    headers: bool = False  # read the table by its header labels; selectors are hints
    key: str | None = None  # regex over the title link's href and onclick (group 1 is the key)
    number: str | None = None
    date: str | None = None
    author: str | None = None
    views: str | None = None
    new_marker: str | None = None  # present in the row = the New marker (icons are found anyway)
    notice: str | None = None  # present in the row = a pinned notice
    drop: str | None = None  # inside the title: not part of it (None: `Vocabulary.drop`)
    link: str | None = None  # e.g. "view.do?bbsId={bbsId}&nttId={key}" for script-only links
    page_param: str = "page"
    signature: str | None = None  # on a page of this family's engine: `probe` prefers it
    notice_words: tuple[str, ...] = NOTICE_WORDS  # the number cell of a pinned post says one
    # the post's own page
    body: str | None = None
    department: str | None = None
    organisation: str | None = None
    attachments: str | None = None
    department_labels: tuple[str, ...] = DEPARTMENT_LABELS  # beside the 담당부서, by preference
    # which engines' words it reads with: every family's (`auto`, a user's profile, which read a
    # board of any engine), or — False, a built-in family — its own below, and the generic ones
    any_engine: Flag = True
    # what the engine says of itself: built-ins only, read on its boards and by `auto`
    id_params: Words = ()  # query parameters that name a post, preferred to the generic ones
    not_id_params: Words = ()  # numeric query parameters that never do (search, sorting)
    board_params: Words = ()  # query parameters that name a board (nor do they)
    labels: Pairs = ()  # (column, header label) the engine prints beyond the generic ones
    hidden: Words = ()  # classes whose text a reader does not see (or sees twice)
    clutter: Css = None  # inside a title: comment counts, categories, previews (CSS)
    not_title: Words = ()  # classes of the links beside a title: its category, comments, writer
    comment_params: Words = ()  # query parameters of a link to comments (never naming a post)
    category_params: Words = ()  # those of a category filter (nor do they)
    card_parts: Pairs = ()  # (part, class word): a card's part so classed is that part
    id_fields: Words = ()  # a post page's hidden form fields that carry its id, by preference
    action_params: Words = ()  # query parameters of a post's own actions (reply, edit)
    nav: Words = ()  # class words of a post page's prev/next lists (never its body)
    downloads: Css = None  # a post page's download links, wherever the skin puts them (CSS)
    writer: Css = None  # where a post page names its writer (CSS)
    script_fields: Pairs = ()  # (field, prefix): a script argument so prefixed fills {field}


BUILTIN: dict[str, Profile] = {
    "esg": Profile(  # the ESG 정책뉴스 board (a gnuboard-style table; see shared/seed)
        name="esg",
        any_engine=False,
        signature=(
            "//a[contains(@href, 'bo_table=') and contains(@href, '&no=')]"
            " | //title[contains(., 'ESG')] | //h2[contains(., 'ESG')]"
        ),
        headers=True,
        row="table.board_list > tbody > tr",
        title="td.td_subject a",
        number="td.td_num",
        date="td.td_date",
        author="td.td_name",
        views="td.td_hit",
        new_marker=".new_icon",
        notice=".notice_icon",
        body="div.view_content",
        department="p.view_dept",
        organisation="ul.view_info li.writer",
        attachments="div.view_file a",
        # the board runs on gnuboard: its post pages are gnuboard5's view skin
        downloads="a[href*='download.php'], a.view_file_download",
        writer=".if_name, .sv_member",
    ),
    "gnuboard": Profile(  # gnuboard5 (basic skin) and gnuboard4
        name="gnuboard",
        any_engine=False,
        signature=(
            "//*[@id='bo_list'] | //a[contains(@href, 'wr_id=')]"
            " | //script[contains(., 'g5_url') or contains(., 'g4_path')]"
        ),
        headers=True,
        row="#bo_list tbody > tr, .tbl_head01 tbody > tr",
        title=".bo_tit > a:not(.bo_cate_link), td.td_subject > a",
        number="td.td_num2",
        date="td.td_datetime",
        author="td.td_name",
        new_marker=".new_icon",
        notice=".notice_icon",
        body="#bo_v_con",
        attachments="#bo_v_file a.view_file_download",
        id_params=("wr_id",),
        not_id_params=("sst", "sod", "sop", "spt", "sfl", "stx"),
        board_params=("bo_table",),
        hidden=("sv", "sv_nojs"),  # the member menu beside a name
        clutter=".cnt_cmt, .bo_cate_link, .bo_cate, .sound_only",
        not_title=("bo_cate_link", "cnt_cmt", "sv_member"),
        comment_params=("cwin",),  # view_comment.php?…&cwin=1
        category_params=("sca",),
        card_parts=(("author", "sv_member"),),
        id_fields=("wr_id",),
        action_params=("w",),  # write.php?w=r (reply), w=u (edit)
        nav=("bo_v_nb",),
        downloads="a[href*='download.php'], a.view_file_download",
        writer=".if_name, .sv_member",
    ),
    "xe": Profile(  # Rhymix / XE (default, xedition and sketchbook skins)
        name="xe",
        any_engine=False,
        signature=(
            "//a[contains(@href, 'document_srl=')] | //table[contains(@class, 'bd_lst')]"
            " | //script[contains(., 'current_url') or contains(., 'request_uri')]"
            " | //link[contains(@href, '/modules/board/skins/')]"
        ),
        headers=True,
        row=(
            ".board_list table > tbody > tr, table.board_list > tbody > tr,"
            " table.bd_lst > tbody > tr"
        ),
        title="td.title > a:not(.replyNum):not(.category)",
        number="td.no",
        date="td.time, td.date",
        author="td.author",
        views="td.readNum",
        notice="td.notice",
        body=".xe_content, .rd_body",
        attachments=".files a, .rd_fnt a[href*='procFileDownload']",
        id_params=("document_srl",),
        board_params=("mid",),
        clutter=".replyNum, .wrp, .speech",  # sketchbook's preview bubble
        not_title=("replynum",),
        id_fields=("document_srl",),
        action_params=("act",),  # act=dispBoardReplyComment …
        downloads="a[href*='procFileDownload']",
    ),
    "kboard": Profile(  # KBoard for WordPress, default skin
        name="kboard",
        any_engine=False,
        signature="[class*='kboard']",
        headers=True,
        row=".kboard-list table tbody > tr",
        title="td.kboard-list-title a",
        number="td.kboard-list-uid",
        date="td.kboard-list-date",
        author="td.kboard-list-user",
        views="td.kboard-list-view",
        notice="./self::tr[contains(@class, 'kboard-list-notice')]",
        page_param="pageid",
        body=".kboard-content",
        attachments=".kboard-attach a, .kboard-attach button",
        id_params=("uid",),
        hidden=("kboard-mobile-contents",),
        clutter=".kboard-comments-count, .kboard-mobile-contents",
        id_fields=("uid", "content_uid"),  # the post's forms, its comment form
        downloads="a[href*='file_download'], button[onclick*='file_download']",
    ),
    "egov": Profile(  # eGovFrame boards: ids inside onclick, pageIndex
        name="egov",
        any_engine=False,
        signature=(
            "a[onclick*='fn_egov'], a[href*='nttId'], input[name='nttId'], form[action*='Article']"
        ),
        headers=True,
        row=(
            "//table[.//a[contains(@onclick, 'egov') or contains(@href, 'nttId')"
            " or contains(@href, 'fn_')] or .//input[@name='nttId']]//tr"
        ),
        notice="img[alt*='공지']",
        link="selectBoardArticle.do?bbsId={bbsId}&nttId={key}",
        page_param="pageIndex",
        body=".view_cont, .board_view .cont, .bbs_view .view_text",
        attachments=".file a, .board_file a",
        id_params=("nttid", "nttsn"),
        not_id_params=("pageunit",),
        board_params=("bbsid",),
        labels=(("date", "게시시작일"),),  # beside 작성일: the later choice
        id_fields=("nttid",),
        downloads="a[href*='FileDown'], a[href*='atchFileId']",
        script_fields=(("bbsId", "BBSMSTR"),),  # fn_egov_…('BBSMSTR_…', '251')
    ),
    "auto": Profile(name="auto", headers=True),  # any table board, by its header labels
}


# The order `auto` prefers the families' post-page id fields in (`Vocabulary.id_fields`):
# eGov's `nttId` before KBoard's `uid` (a name a page's other forms may give a user), the other
# way round from `id_params`. Families not named follow, in `BUILTIN` order.
ID_FIELD_ORDER = ("esg", "gnuboard", "xe", "egov", "kboard")

# The order `probe` weighs built-ins in when two read a page equally well: a family's profile
# wins where the page shows its engine (its `signature`); where none does, `auto` says so.
PROBE_ORDER = ("auto", "gnuboard", "xe", "kboard", "egov", "esg")


def resolve(name: str, custom: Mapping[str, Profile]) -> Profile:
    """The profile called `name`: a user's `[profiles.NAME]` first, then a built-in."""
    return custom[name] if name in custom else BUILTIN[name]


def known(custom: Collection[str]) -> list[str]:
    return sorted(set(BUILTIN) | set(custom))
