"""What the read-only commands print: `scrape status` (and `--check`), `scrape posts`, `scrape
probe`, `once --dry-run`'s list and `digest --preview` (nothing sent or marked) — as text for
a person, or JSON with times in the configured zone. Results go to stdout; a word for the person
at the terminal goes to stderr (`say`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from records.post import DETAIL_FIELDS, Listed
from scheduler import config as config_mod
from scheduler.config import ConfigError
from scheduler.config import file as config_file
from scheduler.config import values as config_values
from scheduler.config.values import unset_variables
from scheduler.context import Context, configured, load_context, not_set
from scheduler.ops.logs import LOG

if TYPE_CHECKING:
    from scheduler.crawl import Probe
    from scheduler.policy.verdict import CrawlReport
    from storage.runs import Status

OK, FAILED = 0, 1


def cmd_status(args: argparse.Namespace) -> int:
    from storage import runs

    ctx = load_context(args.config, read_only=True, needs_secrets=False)
    with ctx.store.read() as session:  # the config as it is, shown without syncing it
        status = runs.status(session, configured(ctx, session))
    if args.check:
        return _check(ctx, status)
    data = _with_unset(_zoned(_with_holds(status, ctx), ctx), ctx)
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
        for target in s["not_set"]:
            print(f"  target {target}: once, run, digest and notify-test refuse until it is set")
        for t in s["failing"]:
            until = f"; the daemon waits until {t['held_until']}" if t["held_until"] else ""
            print(
                f"  target {t['target']}: refused {t['failures']} time(s) in a row{until}"
                " (scrape once / scrape digest retry it now)"
            )
        for left in s["unsubscribed"]:
            print(
                f"  target {left['target']}: unsubscribed {left['at']}, gets no digests"
                f" (scrape subscribers --resume {s['name']} undoes it)"
            )
    return OK


def print_subscribers(ctx: Context, *, as_json: bool) -> int:
    """`scrape subscribers`: each configured subscriber's targets (masked, those that left
    marked), boards, keywords, pending entries and opt-outs — the config as it is, unsynced."""
    data = _zoned(subscribers(ctx), ctx)
    if as_json:
        _print_json(data)
        return OK
    for s in data:
        boards = ", ".join(s["boards"]) if s["boards"] is not None else "every board"
        words = ", ".join(s["keywords"]) or "every post"
        unless = f" (not: {', '.join(s['exclude_keywords'])})" if s["exclude_keywords"] else ""
        print(
            f"subscriber {s['name']}: {s['pending']} pending; boards {boards}; keywords "
            f"{words}{unless}; digest {s['digest']}"
        )
        for t in s["targets"]:
            left = f"  unsubscribed {t['unsubscribed_at']}" if t["unsubscribed_at"] else ""
            print(f"  {t['target']}{left}")
        for left in s["opt_outs"]:
            if not any(t["target"] == left["target"] for t in s["targets"]):
                print(f"  {left['target']}  unsubscribed {left['at']} (no longer in the config)")
    return OK


def subscribers(ctx: Context) -> list[dict[str, Any]]:
    """What `scrape subscribers` shows, as data."""
    from storage import ledger, optouts

    with ctx.store.read() as session:
        specs = configured(ctx, session).subscribers
        owed = ledger.owed(session, specs)
        lefts = optouts.listing(session, [spec.name for spec in specs])
    found = []
    for spec, sub in zip(specs, ctx.cfg.subscribers, strict=True):
        gone = {left.identity: left.at for left in lefts.get(spec.name, [])}
        targets = [
            {"target": t.masked, "unsubscribed_at": gone.get(t.identity or "")}
            for t in spec.targets
        ]
        found.append(
            {
                "name": spec.name,
                "targets": targets,
                "boards": sub.boards,
                "keywords": sub.keywords,
                "exclude_keywords": sub.exclude_keywords,
                "digest": sub.digest,
                "pending": len(owed[spec.name]),
                "opt_outs": [
                    {"target": left.target, "at": left.at} for left in lefts.get(spec.name, [])
                ],
            }
        )
    return found


def _check(ctx: Context, status: Status) -> int:
    from datetime import UTC

    from scheduler.ops.healthcheck import report

    healthy, lines = report(ctx.cfg, status, datetime.now(UTC))
    for line in lines:
        print(line)
    return OK if healthy else FAILED


def _with_holds(status: Status, ctx: Context) -> Status:
    """Each failing target with the time until which the daemon holds it back."""
    from scheduler.policy import retries

    notify = ctx.cfg.notify
    base = config_values.interval_seconds(notify.retry_backoff)
    cap = config_values.interval_seconds(notify.retry_max_delay)
    for sub in status["subscribers"]:
        for target in sub["failing"]:
            target["held_until"] = retries.held_until(
                target["failures"], target["last_failure_at"], base, cap
            )
    return status


def _with_unset(data: Any, ctx: Context) -> Any:
    """Each subscriber's targets whose `${VAR}` is unset, as they are shown (`not_set`)."""
    subs = {sub.name: sub for sub in ctx.cfg.subscribers}
    for sub in data["subscribers"]:
        urls = subs[sub["name"]].urls if sub["name"] in subs else []
        sub["not_set"] = [not_set(url) for url in urls if unset_variables(url)]
    return data


# What `scrape posts` shows of a post, in this order: the stored post without internal ids.
SHOWN = ("board", *Listed.__annotations__, "first_seen", *DETAIL_FIELDS)


def cmd_posts(args: argparse.Namespace) -> int:
    from storage import posts

    ctx = load_context(args.config, read_only=True, needs_secrets=False)
    if args.board is not None:
        board_named(ctx.cfg, args.board)
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


def board_named(cfg: config_mod.Config, name: str) -> config_mod.BoardConfig:
    """The board `--board NAME` names: a name the config does not have is a usage error."""
    for board in cfg.boards:
        if board.name == name:
            return board
    known = ", ".join(b.name for b in cfg.boards) or "none"
    raise ConfigError(cfg.path, "--board", f"no board named {name!r} (the config has: {known})")


def subscriber_named(cfg: config_mod.Config, name: str) -> config_mod.SubscriberConfig:
    """The subscriber `--subscriber NAME` names: one the config does not have is a usage error."""
    for sub in cfg.subscribers:
        if sub.name == name:
            return sub
    known = ", ".join(s.name for s in cfg.subscribers) or "none"
    raise ConfigError(
        cfg.path, "--subscriber", f"no subscriber named {name!r} (the config has: {known})"
    )


NOTHING_READ = (
    "no profile reads a list of posts on this page: is {url} the board's first list page? "
    "(else write a [profiles.NAME]: README, Board profiles)"
)


def cmd_probe(args: argparse.Namespace) -> int:
    path = config_file.config_path(args.config)
    cfg = config_file.load(path, secrets=False) if path.exists() else config_file.validate(path, {})
    if args.profile is not None and args.profile not in cfg.known_profiles():
        raise ConfigError(
            path,
            "--profile",
            f"unknown profile {args.profile!r}; known: {', '.join(cfg.known_profiles())}",
        )
    result = probe(cfg, args.url, args.profile)
    rows, error = result.rows, result.error
    if args.profile is None and rows:
        say(f"profile {result.profile!r} reads this page best (tried {', '.join(result.tried)})")
    if rows and result.paging:
        say(f"pages: {result.paging}")
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


def probe(cfg: config_mod.Config, url: str, profile: str | None) -> Probe:
    from scheduler.crawl import probe, run_in_reactor

    return run_in_reactor(lambda: probe(cfg, url, profile))


def say(line: str) -> None:
    """A result meant for the person at the terminal, on stderr (stdout holds the rows)."""
    print(line, file=sys.stderr)


def print_dry_run(crawls: Sequence[CrawlReport]) -> None:
    for crawl in crawls:
        print(
            f"# {crawl.board}: {len(crawl.new)} new post(s), {crawl.queued} entries would be queued"
        )
        for post in crawl.new:
            print("\t".join([post["key"], _iso(post["date"]) or "", post["title"], post["url"]]))


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


def preview(ctx: Context, names: Sequence[str] | None) -> str:
    """`scrape digest --preview`: what is pending for the configured subscribers (`names`, or
    all), each entry once —
    the config as it is, not as the store was last synced to it."""
    from notify.digest import build
    from storage import ledger

    now = ctx.now()
    with ctx.store.read() as session:
        specs = configured(ctx, session).subscribers
        wanted = [spec for spec in specs if names is None or spec.name in names]
        shown = ledger.owed_entries(session, wanted)
    parts = []
    for name, entries in shown.items():
        context = build(name, entries, now, links={b.name: b.url for b in ctx.cfg.boards})
        parts.append(f"== {name}: {ctx.renderer.subject(context)}\n")
        parts.append(ctx.renderer.render("digest.txt.j2", "text", context))
    return "\n".join(parts) if parts else "nothing pending\n"
