"""The change in `notify.compat` holds for the Apprise installed — and these tests fail the day Apprise
changes under it (a version past the span it was made for, or the code it relies on gone), so
whoever upgrades looks at that change again."""

from __future__ import annotations

import inspect
import ssl

from notify import compat


def test_a_change_is_made_only_for_the_versions_it_was_made_for() -> None:
    assert compat.within("2.3.0", compat.APPRISE) and compat.within("1.9.4", compat.APPRISE)
    assert not compat.within("3.0.0", compat.APPRISE) and not compat.within("1.8", compat.APPRISE)
    assert not compat.within("dev", compat.APPRISE)


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
