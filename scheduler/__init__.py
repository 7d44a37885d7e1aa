"""The composition root: configuration (`config/`), the `scrape` command (`cli`), one
crawl-and-deliver cycle (`cycle`, `crawl`, `delivery`), the daemon (`daemon`); the policies it
applies (`policy/`) and what it shows operators (`ops/`). It wires `scraper`, `storage` and
`notify` together and owns time.

`entry` is the `scrape` console script. Importing Scrapy, Twisted and SQLAlchemy builds some
160,000 objects the collector tracks, all living as long as the process: the garbage collector is
off while they are built (it would pass over them again and again), and on again once the
command is set up, with what start-up built frozen out of its way: without either, a quiet
`once` takes ×1.10 the CPU for 1 board and ×1.06 for 300 (BENCHMARKS.md, "What start-up keeps,
and why")."""

from __future__ import annotations

import gc
import sys


def entry() -> None:
    gc.disable()
    try:
        from scheduler.cli import entry as run
    except KeyboardInterrupt:  # Ctrl-C while starting: one line, no traceback (exit 130)
        sys.stderr.write("interrupted: nothing was changed\n")
        raise SystemExit(130) from None
    run()
