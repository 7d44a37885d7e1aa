"""The one place boardwatch changes how Scrapy behaves inside it, for a measured reason, only on
the versions it was made for (an upgrade makes it a no-op, never a silent breakage);
`tests/scraper/test_compat.py` fails when Scrapy changes under it.

**Scrapy's TLS module**, imported with the HTTP download handler, defines two deprecated aliases,
and each asks `inspect.stack()` for its caller: a walk of the whole stack that reads the source of
every frame. The aliases need only their caller's frame, which is all the import gets. Applied
once, when the crawl's reactor starts (`scheduler.crawl.run_in_reactor`).
"""

from __future__ import annotations

import sys

SCRAPY = ((2, 13), (3, 0))  # the versions it was made and measured for: [from, to)


def within(installed: str, span: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """Is `installed` (a version string) one the change was made for?"""
    try:
        major, minor = (int(part) for part in installed.split(".")[:2])
    except ValueError:
        return False
    return span[0] <= (major, minor) < span[1]


def import_scrapy_http_handler() -> bool:
    """Import Scrapy's HTTP download handler with `inspect.stack` answering with the caller's
    frames only; True when that was done (else the import is plain)."""
    import scrapy

    if not within(scrapy.__version__, SCRAPY):
        import scrapy.core.downloader.handlers.http11

        return False
    import inspect

    def caller_only(context: int = 1) -> list[tuple[object, ...]]:
        return [(sys._getframe(1),), (sys._getframe(2),)]

    real = inspect.stack
    inspect.stack = caller_only  # type: ignore[assignment]
    try:
        import scrapy.core.downloader.handlers.http11
    finally:
        inspect.stack = real
    return True
