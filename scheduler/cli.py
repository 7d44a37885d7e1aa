"""The `scrape` command. Exit codes: 0 all asked for succeeded, 1 a board or a delivery failed
(what succeeded is committed), 2 usage or configuration error."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from notify.errors import DeliveryError
from records.post import DETAIL_FIELDS, Listed
from scheduler import config as config_mod
from scheduler import logs
from scheduler.config import ConfigError
from scheduler.context import Context, open_context, sync
from scheduler.logs import LOG
from scraper.errors import CrawlError
from storage.errors import StoreError

if TYPE_CHECKING:
    from scheduler.crawl import Probe
    from scheduler.verdict import CrawlReport
    from storage.runs import Status

OK, FAILED, USAGE = 0, 1, 2
REACTOR_COMMANDS = ("once", "run", "probe")  # `scheduler.crawl.run_in_reactor` runs them


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scrape", description="Watch bulletin boards; send digests.")
    top.add_argument("--config", help="config file (default: $SCRAPE_CONFIG, else ./scrape.toml)")
    top.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv: debug)")
    top.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    top.add_argument("--version", action=_Version, help="print the version and exit")
    top.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object a line (time, level, board or subscriber, message)",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="write a starter config and create or upgrade the database")
    init.add_argument(
        "url", nargs="?", help="a board's first list page: the config watches it (profile found)"
    )
    sub.add_parser(
        "check", help="validate the config, its targets and the database URL; exit 0 or 2"
    )
    once = sub.add_parser("once", help="crawl the boards once, store what is new, send due digests")
    once.add_argument("--board", action="append", default=[], metavar="NAME")
    once.add_argument("--no-notify", action="store_true", help="store and queue, send nothing")
    once.add_argument("--dry-run", action="store_true", help="store nothing, send nothing")
    sub.add_parser("run", help="the daemon: crawl and send on schedule until SIGTERM/SIGINT")
    status = sub.add_parser("status", help="board health and subscribers' pending entries")
    status.add_argument("--json", action="store_true")
    status.add_argument(
        "--check", action="store_true", help="exit 1, one line per reason, unless all is healthy"
    )
    posts = sub.add_parser("posts", help="stored posts, newest first")
    posts.add_argument("--board", metavar="NAME")
    posts.add_argument("--limit", type=int, default=50)
    posts.add_argument("--json", action="store_true")
    probe = sub.add_parser("probe", help="fetch one list page and print the rows it parses")
    probe.add_argument("url")
    probe.add_argument(
        "--profile", help="a built-in or [profiles.NAME] (default: the one that reads it best)"
    )
    probe.add_argument("--json", action="store_true")
    digest = sub.add_parser("digest", help="send due digests now")
    digest.add_argument("--subscriber", action="append", default=None, metavar="NAME")
    digest.add_argument("--preview", action="store_true", help="print them; send and mark nothing")
    test = sub.add_parser("notify-test", help="send a test message to a subscriber's targets")
    test.add_argument("--subscriber", metavar="NAME")
    return top


class _Version(argparse.Action):
    """`--version`, its package metadata read only when asked (not on every run's start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("boardwatch")
        except PackageNotFoundError:  # a checkout that was never installed
            found = "unknown"
        print(f"scrape (boardwatch) {found}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command not in REACTOR_COMMANDS:  # they turn the collector on once set up
        gc.enable()
    logs.setup(
        args.verbose,
        args.quiet,
        timestamps=args.command == "run" or not _tty(),
        json=args.log_format == "json",
    )
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        return _fail(USAGE, f"configuration error: {exc}", args.verbose)
    except KeyboardInterrupt:
        return _fail(130, "interrupted", 0)
    except BrokenPipeError:  # `scrape posts | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except (StoreError, CrawlError, DeliveryError) as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        return _fail(FAILED, f"error: {exc}{hint}", args.verbose)
    except Exception as exc:  # a bug: one clear line, -v for the traceback
        message = f"unexpected error: {type(exc).__name__}: {exc} (run with -v for details)"
        return _fail(FAILED, message, args.verbose)


def entry() -> None:
    """The `scrape` console script: `main`, then an exit that skips tearing the interpreter
    down (a fifth of a quiet run's time goes to freeing what the process is about to drop)."""
    code = main()
    from storage.db import close_all

    close_all()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _tty() -> bool:
    try:
        return os.isatty(sys.stderr.fileno())
    except (OSError, ValueError):  # a replaced stderr (tests) has no descriptor
        return True


def _fail(code: int, message: str, verbose: int) -> int:
    LOG.error("%s", message, exc_info=verbose > 0 and code != USAGE)
    return code


def _context(args: argparse.Namespace) -> Context:
    path = config_mod.config_path(args.config)
    return open_context(config_mod.load(path))


def cmd_init(args: argparse.Namespace) -> int:
    path = config_mod.config_path(args.config)
    if path.exists():
        raise ConfigError(path, "", "already exists; boardwatch never overwrites a config file")
    starter = files("scheduler").joinpath("starter.toml").read_text("utf-8")
    if args.url:
        found = _probe(config_mod.validate(path, {}), args.url, None)
        if found.error or not found.rows:
            LOG.error("%s: %s", args.url, found.error or NOTHING_READ.format(url=args.url))
            return FAILED
        starter = starter_for(starter, args.url, found.profile, found.heading)
        _say(f"{args.url}: read with profile {found.profile!r} ({len(found.rows)} rows)")
    path.write_text(starter, "utf-8")
    LOG.info("wrote %s", path)
    ctx = open_context(config_mod.load(path))
    sync(ctx)
    LOG.info("database ready: %s", _masked(ctx.cfg.storage.url))
    return OK


def cmd_check(args: argparse.Namespace) -> int:
    """The config whole — keys, types, schedules, profiles, every target URL as Apprise reads
    it — and the database URL, without crawling, sending or writing anything."""
    from scheduler.context import check_targets, register_secrets, target_urls
    from scheduler.cycle import refuse_placeholders
    from storage.db import reachable

    path = config_mod.config_path(args.config)
    cfg = config_mod.load(path)
    register_secrets(cfg)
    check_targets(cfg, None)
    refuse_placeholders(cfg, [board for board in cfg.boards if board.enabled])
    try:
        reachable(cfg.storage.url)
    except StoreError as exc:
        raise ConfigError(path, "storage.url", str(exc)) from None
    boards, subs = len(cfg.boards), len(cfg.subscribers)
    targets = len(target_urls(cfg))
    _say(f"{path}: ok ({boards} board(s), {subs} subscriber(s), {targets} target URL(s))")
    return OK


def cmd_once(args: argparse.Namespace) -> int:
    from scheduler.crawl import run_in_reactor
    from scheduler.cycle import run_once, select_boards

    ctx = _context(args)
    boards = select_boards(ctx, args.board)
    report = run_in_reactor(
        lambda: run_once(ctx, boards, notify=not args.no_notify, dry_run=args.dry_run)
    )
    if args.dry_run:
        _print_dry_run(report.crawls)
    return FAILED if report.failed else OK


def _print_dry_run(crawls: Sequence[CrawlReport]) -> None:
    for crawl in crawls:
        print(
            f"# {crawl.board}: {len(crawl.new)} new post(s), {crawl.queued} entries would be queued"
        )
        for post in crawl.new:
            print("\t".join([post["key"], _iso(post["date"]) or "", post["title"], post["url"]]))


def cmd_run(args: argparse.Namespace) -> int:
    from scheduler.crawl import run_in_reactor
    from scheduler.daemon import Daemon

    ctx = _context(args)
    run_in_reactor(lambda: Daemon(ctx, lambda: _context(args)).serve())
    return OK


def cmd_status(args: argparse.Namespace) -> int:
    from storage import runs

    ctx = _context(args)
    sync(ctx)
    with ctx.store.read() as session:
        status = runs.status(session)
    if args.check:
        return _check(ctx, status)
    data = _zoned(_with_holds(status, ctx), ctx)
    if args.json:
        _print_json(data)
        return OK
    for b in data["boards"]:
        streak = f", failing {b['fail_streak']} run(s) in a row" if b["fail_streak"] else ""
        print(
            f"board {b['name']}: {b['posts']} posts, last run {b['last_run_at'] or 'never'}, "
            f"{b['last_result'] or '-'}{streak}"
            + (f"\n  error: {b['error']}" if b["error"] else "")
            + (f"\n  warning ({b['warned_at']}): {b['warning']}" if b["warning"] else "")
        )
    for s in data["subscribers"]:
        print(
            f"subscriber {s['name']}: {s['pending']} pending, last delivery "
            f"{s['last_delivered_at'] or 'never'}"
            + (f"\n  error: {s['last_error']}" if s["last_error"] else "")
        )
        for t in s["failing"]:
            until = f"; the daemon waits until {t['held_until']}" if t["held_until"] else ""
            print(
                f"  target {t['target']}: refused {t['failures']} time(s) in a row{until}"
                " (scrape once / scrape digest retry it now)"
            )
    return OK


def _check(ctx: Context, status: Status) -> int:
    from datetime import UTC

    from scheduler.checkup import problems

    found = problems(ctx.cfg, status, datetime.now(UTC))
    for line in found:
        print(f"CRITICAL {line}")
    if found:
        return FAILED
    boards = sum(b.enabled for b in ctx.cfg.boards)
    print(f"OK {boards} board(s) ran on time; no target past failure_threshold")
    return OK


def _with_holds(status: Status, ctx: Context) -> Status:
    """Each failing target with the time until which the daemon holds it back."""
    from scheduler import retries

    notify = ctx.cfg.notify
    base = config_mod.interval_seconds(notify.retry_backoff)
    cap = config_mod.interval_seconds(notify.retry_max_delay)
    for sub in status["subscribers"]:
        for target in sub["failing"]:
            target["held_until"] = retries.held_until(
                target["failures"], target["last_failure_at"], base, cap
            )
    return status


# What `scrape posts` shows of a post, in this order: the stored post without internal ids.
SHOWN = ("board", *Listed.__annotations__, "first_seen", *DETAIL_FIELDS)


def cmd_posts(args: argparse.Namespace) -> int:
    from storage import posts

    ctx = _context(args)
    with ctx.store.read() as session:
        rows = posts.listing(session, args.board, args.limit)
    shown = [{k: _jsonable(row[k], ctx) for k in SHOWN} for row in rows]  # type: ignore[literal-required]
    if args.json:
        _print_json(shown)
        return OK
    for row in shown:
        flags = (" [공지]" if row["notice"] else "") + (" [New]" if row["new_marker"] else "")
        print(f"{row['board']}\t{row['date'] or '-'}\t{row['key']}\t{row['title']}{flags}")
    return OK


NOTHING_READ = (
    "no profile reads a list of posts on this page: is {url} the board's first list page? "
    "(else write a [profiles.NAME]: README, Board profiles)"
)


def cmd_probe(args: argparse.Namespace) -> int:
    path = config_mod.config_path(args.config)
    cfg = config_mod.load(path, secrets=False) if path.exists() else config_mod.validate(path, {})
    if args.profile is not None and args.profile not in cfg.known_profiles():
        raise ConfigError(
            path,
            "--profile",
            f"unknown profile {args.profile!r}; known: {', '.join(cfg.known_profiles())}",
        )
    result = _probe(cfg, args.url, args.profile)
    rows, error = result.rows, result.error
    if args.profile is None and rows:
        _say(f"profile {result.profile!r} reads this page best (tried {', '.join(result.tried)})")
    if args.json:
        _print_json([{k: _iso(v) for k, v in row.items()} for row in rows])
    for row in [] if args.json else rows:
        cells = [
            row["key"],
            row["number"] or "",
            _iso(row["date"]) or "",
            "New" if row["new_marker"] else "",
            "notice" if row["notice"] else "",
            row["title"],
            row["url"],
        ]
        print("\t".join(cells))
    if error or not rows:
        nothing = (
            f"no rows parsed with profile {args.profile!r}: try without --profile, or write a "
            "[profiles.NAME] (README: Board profiles)"
            if args.profile
            else NOTHING_READ.format(url=args.url)
        )
        LOG.error("%s", error or nothing)
        return FAILED
    return OK


def _probe(cfg: config_mod.Config, url: str, profile: str | None) -> Probe:
    from scheduler.crawl import probe, run_in_reactor

    return run_in_reactor(lambda: probe(cfg, url, profile))


def _say(line: str) -> None:
    """A result meant for the person at the terminal, on stderr (stdout holds the rows)."""
    print(line, file=sys.stderr)


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


def cmd_digest(args: argparse.Namespace) -> int:
    from scheduler.cycle import deliver_guarded
    from scheduler.preview import preview

    ctx = _context(args)
    sync(ctx)
    names = [ctx.cfg.subscriber(n).name for n in args.subscriber] if args.subscriber else None
    if args.preview:
        sys.stdout.write(preview(ctx, names))
        return OK
    reports = asyncio.run(deliver_guarded(ctx, names, spaced=False))
    return FAILED if any(r.error or r.alert_errors for r in reports) else OK


def cmd_notify_test(args: argparse.Namespace) -> int:
    from scheduler.delivery import notify_test

    ctx = _context(args)
    subs = [ctx.cfg.subscriber(args.subscriber)] if args.subscriber else ctx.cfg.subscribers
    failed = False
    for sub in subs:
        for report in notify_test(ctx, sub):
            result = f"FAILED: {report.error}" if report.error else "ok"
            print(f"{sub.name}\t{report.target}\t{result}")
            failed |= report.error is not None
    return FAILED if failed else OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": cmd_init,
    "check": cmd_check,
    "once": cmd_once,
    "run": cmd_run,
    "status": cmd_status,
    "posts": cmd_posts,
    "digest": cmd_digest,
    "probe": cmd_probe,
    "notify-test": cmd_notify_test,
}


def _masked(url: str) -> str:
    from notify.masking import mask_url

    return mask_url(url)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _jsonable(value: Any, ctx: Context) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ctx.zone).isoformat(timespec="seconds")
    return _iso(value)


def _zoned(data: Any, ctx: Context) -> Any:
    """Every datetime in `data` as ISO text in the configured zone."""
    if isinstance(data, dict):
        return {k: _zoned(v, ctx) for k, v in data.items()}
    if isinstance(data, list):
        return [_zoned(v, ctx) for v in data]
    return _jsonable(data, ctx)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    entry()
