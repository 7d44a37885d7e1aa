"""The `scrape` command: its arguments, and each command's errors turned into an exit code — 0 all
asked for succeeded, 1 a board or a delivery failed (what succeeded is committed), 2 usage or
configuration error. What the read-only commands print is `scheduler.readouts`; the starter
config `init` writes is `scheduler.config.starter`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from records.errors import BoardwatchError
from scheduler.config import ConfigError
from scheduler.config import file as config_file
from scheduler.config.arguments import parse
from scheduler.config.starter import starter, starter_for
from scheduler.config.values import unset_variables
from scheduler.context import Context, load_context, not_set, open_context, sync
from scheduler.ops import logs
from scheduler.ops.logs import LOG
from scheduler.ops.progress import Progress
from scheduler.readouts import (
    NOTHING_READ,
    board_named,
    cmd_posts,
    cmd_probe,
    cmd_status,
    print_dry_run,
    print_subscribers,
    probe,
    say,
    subscriber_named,
)
from storage.errors import StoreError

OK, FAILED, USAGE = 0, 1, 2
INTERRUPTED = 130  # 128 + SIGINT, as shells report a command Ctrl-C stopped
NOTHING_DONE = "interrupted: nothing was changed"
REACTOR_COMMANDS = ("once", "run", "probe")  # `scheduler.crawl.run_in_reactor` runs them


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.command not in REACTOR_COMMANDS:  # they turn the collector on once set up
        gc.enable()
    logs.setup(
        args.verbose,
        args.quiet,
        timestamps=args.command == "run" or not _tty(),
        json=args.log_format == "json",
    )
    args.progress = Progress()
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        kind = "usage error" if exc.key.startswith("-") else "configuration error"
        return _fail(USAGE, f"{kind}: {exc}", args.verbose)
    except KeyboardInterrupt:  # Ctrl-C: what was committed stays, and is said
        return _fail(INTERRUPTED, args.progress.interrupted(), 0)
    except BrokenPipeError:  # `scrape posts | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except BoardwatchError as exc:  # a board, the store, a target: ours, with what to do
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        return _fail(FAILED, f"error: {exc}{hint}", args.verbose)
    except Exception as exc:  # a bug: one clear line (no SQL text), -v for the traceback
        from storage.db import describe

        message = f"unexpected error: {describe(exc)} (run with -v for details)"
        return _fail(FAILED, message, args.verbose)


def entry() -> None:
    """The `scrape` console script: `main`, then an exit that skips tearing the interpreter
    down, freeing what the process is about to drop (a quiet `once` with it torn down: ×1.04 the
    CPU for 1 board, ×1.07 for 300; BENCHMARKS.md, "What start-up keeps, and why")."""
    try:
        code = main()
    except KeyboardInterrupt:  # before the command began: it had done nothing
        print(NOTHING_DONE, file=sys.stderr)
        code = INTERRUPTED
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


def cmd_init(args: argparse.Namespace) -> int:
    path = config_file.config_path(args.config)
    if path.exists():
        again = " ".join(["scrape --config NEW.toml init", *([args.url] if args.url else [])])
        raise ConfigError(
            path,
            "",
            f"already exists; boardwatch never overwrites a config file (another: `{again}`)",
        )
    text = starter()
    if args.url:
        found = probe(config_file.validate(path, {}), args.url, None)
        if found.error or not found.rows:  # the URL given is not a board's list: nothing written
            LOG.error("%s: %s", args.url, found.error or NOTHING_READ.format(url=args.url))
            return USAGE
        text = starter_for(text, args.url, found.profile, found.heading)
        say(f"{args.url}: read with profile {found.profile!r} ({len(found.rows)} rows)")
    path.write_text(text, "utf-8")
    args.progress.wrote.append(f"wrote {path}")
    LOG.info("wrote %s", path)
    ctx = open_context(config_file.load(path))
    sync(ctx)
    LOG.info("database ready: %s", _masked(ctx.cfg.storage.url))
    _next_steps(args, path)
    return OK


def _next_steps(args: argparse.Namespace, path: Path) -> None:
    """What a newcomer runs next: the check, then the first crawl."""
    scrape = f"scrape --config {args.config}" if args.config else "scrape"
    if not args.url:
        LOG.info("first: in %s, set boards[0].url to the board's first list page", path)
    LOG.info("next: %s check   (the config, its targets and the database; sends nothing)", scrape)
    LOG.info("then: %s once    (the first crawl: a baseline, only `backfill` posts sent)", scrape)


def cmd_check(args: argparse.Namespace) -> int:
    """The config whole — keys, types, schedules, profiles, every target URL as Apprise reads
    it — and the database URL, without crawling, sending or writing anything."""
    from scheduler.config.proof import prove
    from scheduler.context import check_targets, register_secrets, target_urls
    from scheduler.cycle import refuse_placeholders
    from storage.db import reachable

    path = config_file.config_path(args.config)
    cfg = config_file.load(path)
    register_secrets(cfg)
    check_targets(cfg, None)
    refuse_placeholders(cfg, [board for board in cfg.boards if board.enabled])
    prove(cfg)  # the templates render, the places can be written: the config runs
    try:
        reachable(cfg.storage.url)
    except StoreError as exc:
        raise ConfigError(path, "storage.url", str(exc)) from None
    boards, subs = len(cfg.boards), len(cfg.subscribers)
    targets = len(target_urls(cfg))
    say(f"{path}: ok ({boards} board(s), {subs} subscriber(s), {targets} target URL(s))")
    return OK


def cmd_once(args: argparse.Namespace) -> int:
    from scheduler.crawl import run_in_reactor
    from scheduler.cycle import run_once, select_boards

    ctx = load_context(args.config)
    boards = select_boards(ctx, [board_named(ctx.cfg, name).name for name in args.board])
    args.progress.boards = 0 if args.dry_run else len(boards)
    report = run_in_reactor(
        lambda: run_once(
            ctx,
            boards,
            notify=not args.no_notify,
            dry_run=args.dry_run,
            progress=args.progress,
        )
    )
    if args.dry_run:
        print_dry_run(report.crawls)
    return FAILED if report.failed else OK


def cmd_run(args: argparse.Namespace) -> int:
    from scheduler.crawl import run_in_reactor
    from scheduler.daemon import Daemon

    ctx = load_context(args.config, waiting=True)  # it starts whatever its store's state
    run_in_reactor(lambda: Daemon(ctx, lambda: load_context(args.config)).serve())
    return OK


def cmd_digest(args: argparse.Namespace) -> int:
    from scheduler.cycle import deliver_guarded
    from scheduler.readouts import preview

    ctx = load_context(args.config, read_only=args.preview, needs_secrets=not args.preview)
    names = [subscriber_named(ctx.cfg, n).name for n in args.subscriber or []] or None
    if args.preview:  # shows the config as it is: writes nothing, not even the config
        _say_unset(ctx, names)
        sys.stdout.write(preview(ctx, names))
        return OK
    sync(ctx)
    args.progress.sending = "now"
    sent = deliver_guarded(ctx, names, spaced=False, on_sent=args.progress.digest_done)
    reports = asyncio.run(sent)
    args.progress.sending = "done"
    return FAILED if any(r.error or r.alert_errors for r in reports) else OK


def _say_unset(ctx: Context, names: Sequence[str] | None) -> None:
    """The previewed subscribers' targets whose `${VAR}` is unset (a preview needs none)."""
    for sub in ctx.cfg.subscribers:
        for url in sub.urls if names is None or sub.name in names else ():
            if unset_variables(url):
                say(f"{sub.name}: target {not_set(url)}: `scrape digest` refuses until it is set")


def cmd_notify_test(args: argparse.Namespace) -> int:
    from scheduler.delivery import notify_test

    ctx = load_context(args.config, read_only=True)
    subs = [subscriber_named(ctx.cfg, args.subscriber)] if args.subscriber else ctx.cfg.subscribers
    failed = False
    for sub in subs:
        for report in notify_test(ctx, sub):
            result = f"FAILED: {report.error.reason}" if report.error else "ok"
            print(f"{sub.name}\t{report.target}\t{result}")
            failed |= report.error is not None
    return FAILED if failed else OK


def cmd_subscribers(args: argparse.Namespace) -> int:
    """The subscribers as configured, with what the store knows of them; `--resume NAME` ends
    NAME's opt-outs (and writes nothing else)."""
    from storage import optouts

    ctx = load_context(args.config, read_only=True)
    if args.resume is None:
        return print_subscribers(ctx, as_json=args.json)
    name = ctx.cfg.subscriber(args.resume).name
    with ctx.store.write() as session:
        ended = optouts.resume(session, name)
    for left in ended:
        since = left.at.astimezone(ctx.zone).isoformat(timespec="seconds")
        print(f"{name}\t{left.target}\tgets digests again (unsubscribed {since})")
    say(f"{name}: resumed {len(ended)} target(s)" if ended else f"{name}: no target had left")
    return OK


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
    "subscribers": cmd_subscribers,
}


def _masked(url: str) -> str:
    from notify.masking import mask_url

    return mask_url(url)


if __name__ == "__main__":
    entry()
