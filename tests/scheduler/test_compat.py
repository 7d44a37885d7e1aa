"""The library changes in `scheduler.compat` hold for the libraries installed — and these tests
fail the day a library changes under them (a version past the span a change was made for, or the
code it relies on gone), so whoever upgrades looks at that change again."""

from __future__ import annotations

import inspect
import ssl
import subprocess
import sys

from scheduler import compat


def test_a_change_is_made_only_for_the_versions_it_was_made_for() -> None:
    assert compat.within("2.3.0", compat.APPRISE) and compat.within("1.9.4", compat.APPRISE)
    assert not compat.within("3.0.0", compat.APPRISE) and not compat.within("1.8", compat.APPRISE)
    assert not compat.within("dev", compat.SCRAPY)


def test_apprise_is_still_what_the_shared_ssl_contexts_were_made_for() -> None:
    import apprise
    from apprise.plugins.email import smtp

    assert compat.within(apprise.__version__, compat.APPRISE), apprise.__version__
    # the plugin builds its contexts with a bare `ssl.create_default_context()`
    assert "ssl.create_default_context()" in inspect.getsource(smtp)
    compat.share_apprise_ssl_contexts()
    first, second = smtp.ssl.create_default_context(), smtp.ssl.create_default_context()
    first.check_hostname = False  # the two settings the client may change
    second.check_hostname = False
    assert first.verify_mode == second.verify_mode == ssl.CERT_REQUIRED
    assert compat._shared.cache_info().currsize >= 1  # built once per setting, then shared
    assert smtp.ssl.SSLError is ssl.SSLError  # the rest of the module is the real one


def test_scrapy_is_still_what_the_cheap_import_was_made_for() -> None:
    import scrapy
    from scrapy.utils.deprecate import create_deprecated_class

    assert compat.within(scrapy.__version__, compat.SCRAPY), scrapy.__version__
    assert "inspect.stack()[1]" in inspect.getsource(create_deprecated_class)
    # in a fresh process: the handler imports, and `inspect.stack` is the real one after
    code = (
        "import inspect; real = inspect.stack\n"
        "from scheduler import compat\n"
        "assert compat.import_scrapy_http_handler()\n"
        "assert inspect.stack is real\n"
        "import scrapy.core.downloader.tls as tls; assert tls.DEFAULT_CIPHERS\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, timeout=60)
