"""Board profiles: where a board family keeps each cell, as data.

Selectors are CSS, or XPath when they start with `/` or `./`; cell selectors are relative to the
row. The built-ins and a user's `[profiles.NAME]` go through the same `Profile` record; `auto`
is a profile the parser completes from the list's header labels (see `scraper.parse.detect`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

# The id a post's link carries: query parameters, an argument of an onclick handler, or the last
# numeric path segment. Tried in this order over the link's href and onclick.
KEY_PATTERNS = (
    r"[?&](?:wr_id|document_srl|uid|nttId|nttSn|no|newsId|idx|seq|articleNo|article_no|num)=(\d+)",
    r"\(\s*(?:'[^']*'\s*,\s*|\"[^\"]*\"\s*,\s*)*['\"]?(\d+)['\"]?\s*[,)]",
    r"/(\d+)/?(?:[?#][^/]*)?$",
)
# Elements inside a title that are not the title: comment counts, icons' texts, mobile-only copies.
DROP = ".cnt_cmt, .replyNum, .comment_count, .kboard-comments-count, .kboard-mobile-contents"


@dataclass(frozen=True)
class Profile:
    name: str
    row: str
    title: str
    key: str | None = None  # regex over the title link's href and onclick; else KEY_PATTERNS
    number: str | None = None
    date: str | None = None
    author: str | None = None
    views: str | None = None
    new_marker: str | None = None
    notice: str | None = None  # present in the row = a pinned notice
    drop: str | None = DROP  # inside the title: not part of it
    link: str | None = (
        None  # e.g. "view.do?bbsId={bbsId}&nttId={key}" (the list URL's query fills {…})
    )
    page_param: str = "page"
    # the post's own page
    body: str | None = None
    department: str | None = None
    organisation: str | None = None
    attachments: str | None = None


# The New marker as the engines draw it: an icon image, or an element whose class says so.
NEW_MARKERS = (
    "img[alt*='new' i], img[alt*='새글'], img[src*='new'], .new_icon, .addon_new, .icon_new"
)

BUILTIN: dict[str, Profile] = {
    "esg": Profile(
        name="esg",
        row="table.board_list > tbody > tr",
        title="td.td_subject a",
        key=r"[?&]no=(\d+)",
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
    "gnuboard": Profile(  # gnuboard5, basic skin
        name="gnuboard",
        row="#bo_list tbody > tr, .tbl_head01 tbody > tr",
        title=".bo_tit > a:not(.bo_cate_link), td.td_subject > a",
        key=r"[?&]wr_id=(\d+)|/(\d+)(?:[?#]|$)",
        number="td.td_num2, td:first-child",
        date="td.td_datetime",
        author="td.td_name",
        views="td.td_num",
        new_marker=".new_icon, .fa-new",
        notice=".notice_icon",
        page_param="page",
        body="#bo_v_con",
        attachments="#bo_v_file a.view_file_download",
    ),
    "xe": Profile(  # Rhymix / XE, default board skin
        name="xe",
        row=(
            ".board_list table > tbody > tr, table.board_list > tbody > tr,"
            " table.bd_lst > tbody > tr"
        ),
        title="td.title > a:not(.replyNum):not(.category), td.title > a.hx",
        key=r"document_srl=(\d+)|/(\d+)(?:[?#]|$)",
        number="td.no, td.notice",
        date="td.time, td.date",
        author="td.author",
        views="td.readNum, td.m_no",
        new_marker=NEW_MARKERS,
        notice="td.notice",
        page_param="page",
        body=".xe_content, .rd_body",
        attachments=".files a, .rd_fnt a[href*='procFileDownload']",
    ),
    "kboard": Profile(  # KBoard for WordPress, default skin
        name="kboard",
        row=".kboard-list table tbody > tr",
        title="td.kboard-list-title a",
        key=r"[?&]uid=(\d+)",
        number="td.kboard-list-uid",
        date="td.kboard-list-date",
        author="td.kboard-list-user",
        views="td.kboard-list-view",
        new_marker=NEW_MARKERS,
        notice="./self::tr[contains(@class, 'kboard-list-notice')]",
        page_param="pageid",
        body=".kboard-content",
        attachments=".kboard-attach a",
    ),
    "egov": Profile(  # eGovFrame boards: ids inside onclick, pageIndex
        name="egov",
        row="table tbody > tr",
        title="td a[onclick], td a[href*='nttId'], td a[href^='javascript']",
        key=r"nttId=(\d+)|\(\s*(?:'[^']*'\s*,\s*)*'?(\d+)'?\s*\)",
        number="./td[1]",
        date="./td[contains(@class, 'date')] | ./td[4]",
        author="./td[3]",
        views="./td[5]",
        new_marker=NEW_MARKERS,
        notice="img[alt*='공지']",
        link="selectBoardArticle.do?bbsId={bbsId}&nttId={key}",
        page_param="pageIndex",
        body=".view_cont, .board_view .cont, .bbs_view .view_text",
        attachments=".file a, .board_file a",
    ),
    "auto": Profile(name="auto", row="auto", title="auto"),
}


def resolve(name: str, custom: Mapping[str, Profile]) -> Profile:
    """The profile called `name`: a user's `[profiles.NAME]` first, then a built-in."""
    return custom[name] if name in custom else BUILTIN[name]


def known(custom: Collection[str]) -> list[str]:
    return sorted(set(BUILTIN) | set(custom))
