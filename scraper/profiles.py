"""Board profiles: where a board family keeps each cell, as data.

Selectors are CSS, or XPath when they start with `/` or `./`; cell selectors are relative to the
row. The built-ins and a user's `[profiles.NAME]` go through the same `Profile` record. A profile
with `headers = true` reads a table by its header labels (번호 / 제목 / 글쓴이 / 날짜 / 조회, or
No. / Title / Author / Date / Views; see `scraper.tables`): its selectors are then hints that win
where they match — a skin's class names — never a requirement. Every built-in does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

# Elements inside a title that are not the title: comment counts, categories, previews, copies.
DROP = (
    ".cnt_cmt, .replyNum, .comment_count, .kboard-comments-count, .kboard-mobile-contents, "
    ".category, .bo_cate_link, .bo_cate, .cate, .cmt, .comment, .wrp, .speech, "
    ".sound_only, .blind, .sr-only"
)


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
    drop: str | None = DROP  # inside the title: not part of it
    link: str | None = None  # e.g. "view.do?bbsId={bbsId}&nttId={key}" for script-only links
    page_param: str = "page"
    signature: str | None = None  # on a page of this family's engine: `probe` prefers it
    # the post's own page
    body: str | None = None
    department: str | None = None
    organisation: str | None = None
    attachments: str | None = None


BUILTIN: dict[str, Profile] = {
    "esg": Profile(  # the ESG 정책뉴스 board (a gnuboard-style table; see shared/seed)
        name="esg",
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
    ),
    "gnuboard": Profile(  # gnuboard5 (basic skin) and gnuboard4
        name="gnuboard",
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
    ),
    "xe": Profile(  # Rhymix / XE (default, xedition and sketchbook skins)
        name="xe",
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
    ),
    "kboard": Profile(  # KBoard for WordPress, default skin
        name="kboard",
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
        attachments=".kboard-attach a",
    ),
    "egov": Profile(  # eGovFrame boards: ids inside onclick, pageIndex
        name="egov",
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
    ),
    "auto": Profile(name="auto", headers=True),  # any table board, by its header labels
}


# The order `probe` weighs built-ins in when two read a page equally well: a family's profile
# wins where the page shows its engine (its `signature`); where none does, `auto` says so.
PROBE_ORDER = ("auto", "gnuboard", "xe", "kboard", "egov", "esg")


def resolve(name: str, custom: Mapping[str, Profile]) -> Profile:
    """The profile called `name`: a user's `[profiles.NAME]` first, then a built-in."""
    return custom[name] if name in custom else BUILTIN[name]


def known(custom: Collection[str]) -> list[str]:
    return sorted(set(BUILTIN) | set(custom))
