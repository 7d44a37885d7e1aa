"""The change in `scraper.compat` holds for the Scrapy installed — and these tests fail the day Scrapy
changes under it (a version past the span it was made for, or the code it relies on gone), so
whoever upgrades looks at that change again."""

from __future__ import annotations

import inspect
import subprocess
import sys

from scraper import compat


def test_a_change_is_made_only_for_the_versions_it_was_made_for() -> None:
    assert compat.within("2.19.0", compat.SCRAPY) and not compat.within("3.0", compat.SCRAPY)
    assert not compat.within("dev", compat.SCRAPY)


def test_scrapy_is_still_what_the_cheap_import_was_made_for() -> None:
    import scrapy
    from scrapy.utils.deprecate import create_deprecated_class

    assert compat.within(scrapy.__version__, compat.SCRAPY), scrapy.__version__
    assert "inspect.stack()[1]" in inspect.getsource(create_deprecated_class)
    # in a fresh process: the handler imports, and `inspect.stack` is the real one after
    code = (
        "import inspect; real = inspect.stack\n"
        "from scraper import compat\n"
        "assert compat.import_scrapy_http_handler()\n"
        "assert inspect.stack is real\n"
        "import scrapy.core.downloader.tls as tls; assert tls.DEFAULT_CIPHERS\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, timeout=60)
