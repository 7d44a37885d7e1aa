"""The pages the HTTP port shows, as plain data and rendered: the status page (boards: last run,
result, next due, posts stored, the newest posts; subscribers: pending entries, last delivery,
targets masked, the ones that left marked) and the unsubscribe pages. Times are shown in the
configured zone; board text is escaped by the templates' autoescaping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import jinja2

from notify.digest import safe_url
from scheduler.context import Context, configured
from scheduler.ops.healthcheck import report
from storage import claims, ledger, optouts, posts, runs

TEMPLATES = Path(__file__).parent / "templates"
NEWEST = 5  # posts the status page lists per board


class PostLink(TypedDict):
    title: str
    url: str | None  # http(s) only
    when: str


class BoardRow(TypedDict):
    name: str
    title: str
    url: str | None  # its list page
    configured: bool
    enabled: bool
    last_run: str | None
    result: str | None  # "ok", "error"; None: never run
    error: str | None
    warning: str | None
    next_due: str
    posts: int
    newest: list[PostLink]


class TargetRow(TypedDict):
    target: str  # masked
    left: str | None  # when it unsubscribed
    failures: int  # sends refused in a row
    configured: bool  # False: it left, and is no longer in the config either


class SubscriberRow(TypedDict):
    name: str
    digest: str
    boards: str
    pending: int
    last_delivery: str | None
    last_error: str | None
    targets: list[TargetRow]


class StatusPage(TypedDict):
    generated_at: str
    healthy: bool
    health: list[str]
    boards: list[BoardRow]
    subscribers: list[SubscriberRow]


class LeavePage(TypedDict):
    """An unsubscribe link's page: `confirm` (a GET: what it stops, and the button), `left`
    (after the POST, or a link that was used before), `refused` (a token that names nothing)."""

    state: str
    subscriber: str | None
    target: str | None


def status_page(ctx: Context) -> StatusPage:
    """Everything the status page shows, read in one look at the store."""
    now = datetime.now(UTC)
    names = [board.name for board in ctx.cfg.boards]
    with ctx.store.read() as session:
        config = configured(ctx, session)
        status = runs.status(session, config)
        crawled = claims.crawled_at(session, names)
        shown = [row["name"] for row in status["boards"]]
        newest = {name: posts.listing(session, name, NEWEST) for name in shown}
        lefts = optouts.listing(session, [spec.name for spec in config.subscribers])
    healthy, health = report(ctx.cfg, status, now)
    boards = [_board(ctx, row, crawled, newest[row["name"]], now) for row in status["boards"]]
    specs = {spec.name: spec for spec in config.subscribers}
    subscribers = [
        _subscriber(ctx, row, specs[row["name"]], lefts.get(row["name"], []))
        for row in status["subscribers"]
    ]
    return StatusPage(
        generated_at=_when(ctx, now) or "",
        healthy=healthy,
        health=health,
        boards=boards,
        subscribers=subscribers,
    )


def _board(
    ctx: Context,
    row: runs.BoardStatus,
    crawled: Mapping[str, datetime | None],
    newest: Sequence[Mapping[str, object]],
    now: datetime,
) -> BoardRow:
    board = next((b for b in ctx.cfg.boards if b.name == row["name"]), None)
    return BoardRow(
        name=row["name"],
        title=row["title"],
        url=safe_url(board.url) if board else None,
        configured=board is not None,
        enabled=bool(board and board.enabled),
        last_run=_when(ctx, row["last_run_at"]),
        result=row["last_result"],
        error=row["error"],
        warning=row["warning"],
        next_due=_next_due(ctx, row["name"], crawled.get(row["name"]), now),
        posts=row["posts"],
        newest=[_post(ctx, post) for post in newest],
    )


def _next_due(ctx: Context, name: str, crawled: datetime | None, now: datetime) -> str:
    """When the board is crawled next, by its interval or cron from its last crawl."""
    from scheduler.cycle import plans_for

    board = next((b for b in ctx.cfg.boards if b.name == name), None)
    if board is None:
        return "not in the config"
    if not board.enabled:
        return "not crawled (enabled = false)"
    if crawled is None:
        return "now (never crawled)"
    due = plans_for(ctx, [board])[name].due_after(crawled)
    return "now" if due <= now else _when(ctx, due) or "now"


def _post(ctx: Context, post: Mapping[str, object]) -> PostLink:
    posted, day = post.get("posted_at"), post.get("date")
    when = _when(ctx, posted) if isinstance(posted, datetime) else (str(day) if day else "")
    url = post.get("url")
    return PostLink(
        title=str(post.get("title") or ""),
        url=safe_url(url) if isinstance(url, str) else None,
        when=when or "",
    )


def _subscriber(
    ctx: Context,
    row: runs.SubscriberStatus,
    spec: ledger.SubscriberSpec,
    lefts: Sequence[optouts.Left],
) -> SubscriberRow:
    """Its targets as configured, each marked if it left; then targets that left and are no
    longer in the config."""
    left = {x.identity: x for x in lefts}
    failing = {t["target"]: t["failures"] for t in row["failing"]}
    shown = []
    for target in spec.targets:
        gone = left.pop(target.identity, None) if target.identity else None
        shown.append(
            TargetRow(
                target=target.masked,
                left=_when(ctx, gone.at) if gone else None,
                failures=failing.get(target.masked, 0),
                configured=True,
            )
        )
    shown += [
        TargetRow(target=x.target, left=_when(ctx, x.at), failures=0, configured=False)
        for x in left.values()
    ]
    return SubscriberRow(
        name=row["name"],
        digest=row["digest"],
        boards=", ".join(spec.boards) if spec.boards is not None else "every board",
        pending=row["pending"],
        last_delivery=_when(ctx, row["last_delivered_at"]),
        last_error=row["last_error"],
        targets=shown,
    )


def _when(ctx: Context, at: datetime | None) -> str | None:
    return at.astimezone(ctx.zone).strftime("%Y-%m-%d %H:%M") if at else None


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, page: Mapping[str, object]) -> str:
    return _ENV.get_template(template).render(page)
