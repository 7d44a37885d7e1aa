"""The `scrape` command line: its commands and options, each described in `--help` and each
command's help ending with an example. The global options are accepted before the command and
after it (`scrape once -q` is `scrape -q once`); `--print-completion SHELL` prints a completion
script generated from this parser (shtab), so completion never drifts from the options."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

COMMANDS_HELP = """\
examples:
  scrape init "https://example.or.kr/bbs/board.php?bo_table=notice"
  scrape check && scrape once
  scrape status --check
  scrape once -q                      # from cron: prints only what failed

Every command takes the global options too, after its name (scrape once -q).
Exit codes: 0 all asked for succeeded, 1 a board or a delivery failed (the rest is committed),
2 a usage or configuration error, 130 interrupted (Ctrl-C; what was committed is said)."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="scrape",
        description="Watch bulletin boards; send each subscriber a digest of the new posts.",
        epilog=COMMANDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(top, after=False)
    top.add_argument("--version", action=_Version, help="print the version and exit")
    top.add_argument(
        "--print-completion",
        action=_Completion,
        choices=("bash", "zsh", "tcsh"),
        metavar="SHELL",
        help="print a completion script for bash, zsh or tcsh and exit (README: Shell completion)",
    )
    sub = top.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        title="commands",
        help="what to do (each command has its own --help)",
    )

    def command(name: str, summary: str, *examples: str) -> argparse.ArgumentParser:
        shown = "\n".join(f"  {example}" for example in examples)
        found = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"example{'s' if len(examples) > 1 else ''}:\n{shown}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(found.add_argument_group("global options (also before the command)"))
        return found

    init = command(
        "init",
        "write a commented starter config and create or upgrade the database",
        'scrape init "https://example.or.kr/bbs/board.php?bo_table=notice"',
    )
    init.add_argument(
        "url",
        nargs="?",
        help="a board's first list page: the config watches that board, with the profile that "
        "reads it, named after its title (without: the ESG board, its address to fill in)",
    )
    command(
        "check",
        "validate the config, its target URLs and the database URL, crawling and sending "
        "nothing; exit 0 or 2",
        "scrape --config /etc/boardwatch/scrape.toml check",
    )
    once = command(
        "once",
        "crawl the boards once, store what is new, send the digests that are due",
        "scrape once --board esg --no-notify",
    )
    once.add_argument(
        "--board",
        action="append",
        default=[],
        metavar="NAME",
        help="crawl this board only (repeat for more; default: every enabled board)",
    )
    once.add_argument(
        "--no-notify",
        action="store_true",
        help="store and queue what is new, send nothing (admin alerts neither)",
    )
    once.add_argument(
        "--dry-run",
        action="store_true",
        help="store nothing, send nothing: print what would be queued",
    )
    command(
        "run",
        "the daemon: crawl each board and send each digest on schedule until SIGTERM or SIGINT "
        "(then exit 0); SIGHUP reloads the config",
        "scrape run --log-format json",
    )
    status = command(
        "status",
        "each board's last run and posts, each subscriber's pending entries and failing targets",
        "scrape status --check || echo unhealthy",
    )
    status.add_argument("--json", action="store_true", help="as JSON, on stdout")
    status.add_argument(
        "--check",
        action="store_true",
        help="for health probes: exit 1 with one line per reason unless every enabled board ran "
        "on time and no target is past failure_threshold; else 0",
    )
    posts = command(
        "posts",
        "the stored posts, newest first",
        "scrape posts --board esg --limit 0 --json",
    )
    posts.add_argument("--board", metavar="NAME", help="this board's posts only")
    posts.add_argument(
        "--limit", type=_count, default=50, metavar="N", help="at most N posts (default 50; 0: all)"
    )
    posts.add_argument("--json", action="store_true", help="as JSON, on stdout")
    probe = command(
        "probe",
        "fetch one list page (nothing stored, no secret needed) and print the rows it parses",
        'scrape probe "https://example.or.kr/bbs/board.php?bo_table=notice"',
    )
    probe.add_argument("url", help="a board's first list page")
    probe.add_argument(
        "--profile",
        metavar="NAME",
        help="read it with this profile, a built-in or a [profiles.NAME] (default: the one that "
        "reads it best, named on stderr)",
    )
    probe.add_argument("--json", action="store_true", help="the rows as JSON, on stdout")
    digest = command(
        "digest",
        "send the due digests now, retrying every failed target",
        "scrape digest --preview --subscriber esg-team",
    )
    digest.add_argument(
        "--subscriber",
        action="append",
        default=None,
        metavar="NAME",
        help="this subscriber's digest only (repeat for more; default: every subscriber's)",
    )
    digest.add_argument(
        "--preview",
        action="store_true",
        help="print the digests as text instead: nothing sent or marked, no secret needed",
    )
    test = command(
        "notify-test",
        "send a short test message to each target and report each target's answer",
        "scrape notify-test --subscriber esg-team",
    )
    test.add_argument(
        "--subscriber", metavar="NAME", help="this subscriber's targets only (default: everyone's)"
    )
    subs = command(
        "subscribers",
        "each subscriber's targets (masked), boards, keywords, pending entries and opt-outs",
        "scrape subscribers --resume esg-team",
    )
    subs.add_argument("--json", action="store_true", help="print it as JSON on stdout")
    subs.add_argument(
        "--resume",
        metavar="NAME",
        help="undo subscriber NAME's unsubscribes: its targets get digests again from now on",
    )
    return top


def _global_options(group: Any, *, after: bool = True) -> None:
    """`--config`, `-v`, `-q`, `--log-format`: on the top parser with their defaults, and after
    each command with none (so one given before the command is kept; `-v` counts both)."""
    default = {"default": argparse.SUPPRESS} if after else {}
    group.add_argument(
        "--config",
        metavar="PATH",
        help="the config file (default: $SCRAPE_CONFIG, else ./scrape.toml)",
        **default,
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        dest="verbose_after" if after else "verbose",
        help="more detail, and tracebacks; -vv: debug, libraries' lines too",
        **(default if after else {"default": 0}),
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="warnings and errors only (a failed board, a refused target): nothing on success",
        **default,
    )
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="json: one JSON object a line (time, level, board or subscriber, message); "
        "default: text",
        **(default if after else {"default": "text"}),
    )


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, global options given after the command folded into those before it."""
    args = parser().parse_args(argv)
    args.verbose += vars(args).pop("verbose_after", 0)
    return args


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count: 0 (all) or more")
    return value


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


class _Completion(argparse.Action):
    """`--print-completion SHELL`: shtab's script for this parser (shtab imported only then)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, _: Any, shell: Any, *__: Any) -> None:
        import shtab

        for each in _parsers(parser):
            for action in each._actions:
                if "--config" in action.option_strings:
                    action.complete = shtab.FILE  # type: ignore[attr-defined]
        print(shtab.complete(parser, shell=shell))
        parser.exit()


def _parsers(top: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The top parser and each command's."""
    found = [top]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += action.choices.values()
    return found
