"""The one place boardwatch changes how Apprise behaves inside it, for a measured reason, only on
the versions it was made for (an upgrade makes it a no-op, never a silent breakage);
`tests/notify/test_compat.py` fails when Apprise changes under it.

**Apprise's SMTP plugin** builds a new SSL context for every email it sends — loading every CA
certificate, ~16 ms of CPU, plain SMTP included. Here it is handed one context per setting, built
once and shared (an `SSLContext` is safe to share once it is no longer changed). Applied once,
where `notify.send` first imports Apprise.
"""

from __future__ import annotations

import functools
import ssl
import types
from typing import Any

APPRISE = ((1, 9), (3, 0))  # the versions it was made and measured for: [from, to)


def within(installed: str, span: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """Is `installed` (a version string) one the change was made for?"""
    try:
        major, minor = (int(part) for part in installed.split(".")[:2])
    except ValueError:
        return False
    return span[0] <= (major, minor) < span[1]


@functools.cache
def share_apprise_ssl_contexts() -> bool:
    """Hand Apprise's SMTP plugin shared SSL contexts; True when it was done."""
    import apprise

    if not within(apprise.__version__, APPRISE):
        return False
    from apprise.plugins.email import smtp

    if getattr(smtp, "ssl", None) is not ssl:  # not the shape this was made for: leave it
        return False
    smtp.ssl = _SharedSsl()  # type: ignore[attr-defined]
    return True


class _SharedSSLContext:
    """What Apprise's SMTP client gets for `ssl.create_default_context()`: it records the two
    settings the client may change and, only when a connection is really secured, hands over a
    context built once per setting and shared."""

    _settings: dict[str, Any]

    def __init__(self) -> None:
        object.__setattr__(self, "_settings", {"check_hostname": True, "verify_mode": None})

    def __setattr__(self, name: str, value: object) -> None:
        if name not in self._settings:
            raise AttributeError(f"boardwatch's shared SSL context does not change {name}")
        self._settings[name] = value

    def __getattr__(self, name: str) -> object:
        return getattr(
            _shared(self._settings["check_hostname"], self._settings["verify_mode"]), name
        )


@functools.cache
def _shared(check_hostname: bool, verify_mode: ssl.VerifyMode | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = check_hostname
    if verify_mode is not None:
        context.verify_mode = verify_mode
    return context


class _SharedSsl(types.ModuleType):
    """The `ssl` module as Apprise's SMTP plugin sees it: itself, but for the shared contexts."""

    def __init__(self) -> None:
        super().__init__("ssl")

    def __getattr__(self, name: str) -> object:
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(*args: object, **kwargs: object) -> object:
        if args or kwargs:
            return ssl.create_default_context(*args, **kwargs)  # type: ignore[arg-type]
        return _SharedSSLContext()
