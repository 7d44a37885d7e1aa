"""Secrets inside URLs masked in every message and log line — the parts Apprise marks private
for each target's URL form (passwords, tokens, webhook ids), HTTP header values, a database URL's
password — and nothing else, so a masked URL still says which server and target it is.

Apprise is imported only when a URL must really be masked (it costs a fraction of a second):
`candidates` gives a cheap superset of a URL's secrets, to tell whether a text could hold any.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MASK = "****"
DATABASES = ("sqlite", "postgres", "mysql", "mariadb", "oracle", "mssql")
MAIL = frozenset({"mailto", "mailtos"})
_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@?#]*:)[^@\s/?#]+@")
SHORTEST = 4  # a secret shorter than this is masked inside its URL only, not in free text
# A database URL's query may carry its password too: `postgresql://u@h/db?password=…`.
_DSN_SECRET = re.compile(
    r"([?&](?:password|passwd|pwd|secret|token|sslpassword|sslkey|api_key)=)[^&#\s'\"]*",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """The URL with its secrets masked: `mailto://bw:****@smtp.example.com:2525/…`."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        return MASK
    if scheme.startswith(DATABASES):
        return _DSN_SECRET.sub(rf"\1{MASK}", _PASSWORD.sub(rf"\1{MASK}@", url))
    plugin = _plugin(url)
    if plugin is None:  # not an Apprise URL: hide the password and every query value
        return _generic(url)
    return _readable(plugin.url(privacy=True), url)


def secrets_of(url: str) -> list[str]:
    """What of `url` must never be shown: each part Apprise marks private (the URL itself is
    shown as `mask_url` writes it, which keeps the parts that tell targets apart)."""
    found: set[str] = set()
    plugin = _plugin(url)
    parts = _safe_split(url)
    if parts is not None and parts.password:
        found.add(parts.password)
    if plugin is not None:
        parsed = type(plugin).parse_url(url) or {}
        found.update(_private_values(plugin, parsed))
        for extra in ("qsd+", "qsd-"):  # header values (`+name=`), payload values (`-name=`)
            found.update(str(v) for v in (parsed.get(extra) or {}).values())
    else:
        found.update(v for _, v in parse_qsl(_query(url)))
    return sorted((s for s in found if s and s != url), key=len, reverse=True)


def identity(url: str) -> str:
    """What `url` names apart from its secrets — scheme, user, host and port, path (recipients,
    channels), query arguments with their values that are not secret — as a hash: the same for
    a target whose password, token or header value changed, different for another target."""
    hidden = secrets_of(url)
    scheme, _, rest = url.partition("://")
    where, _, query = rest.partition("?")  # as Apprise reads it: the query past a "#channel"
    netloc, _, path = where.partition("/")
    userinfo, _, host = netloc.rpartition("@")
    parts = [scheme.lower(), _named(userinfo.split(":", 1)[0], hidden), _named(host, hidden)]
    parts += [_named(unquote(segment), hidden) for segment in path.split("/") if segment]
    parts += sorted(
        f"{key.lower()}={MASK if key.startswith(('+', '-')) else _named(value, hidden)}"
        for key, value in parse_qsl(query, keep_blank_values=True)
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _named(part: str, hidden: Collection[str]) -> str:
    """`part` of a URL, or the mask where it is (or holds) a secret."""
    secret = any(s == part or (len(s) >= SHORTEST and s in part) for s in hidden)
    return MASK if secret else part


def candidates(url: str) -> list[str]:
    """A cheap superset of `url`'s secrets (no Apprise): any of them in a text means the text
    may hold a secret and must be masked for real."""
    scheme, _, rest = url.partition("://")
    where = rest.split("?", 1)[0].split("#", 1)[0]
    netloc, _, path = where.partition("/")
    userinfo, _, host = netloc.rpartition("@")
    found = {url, *userinfo.split(":"), *path.split("/")}
    found.update(v for _, v in parse_qsl(_query(url)))
    if scheme.lower() not in MAIL:
        found.update(host.split(":"))
    return sorted((s for s in found if len(s) >= SHORTEST or s == url), key=len, reverse=True)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Passwords of URLs in `text` masked, and every given secret too."""
    text = _PASSWORD.sub(rf"\1{MASK}@", text)
    for secret in secrets:
        if len(secret) >= SHORTEST:
            text = text.replace(secret, MASK)
    return text


def known_scheme(url: str) -> bool:
    """Does Apprise know this URL's scheme and read its form?"""
    return _plugin(url) is not None


def unreadable(url: str) -> str:
    """Why Apprise does not read `url`, in words that blame the right thing: a scheme it does
    not know, or — for a scheme it knows — the form (a missing token, say), as it says."""
    from apprise.manager_plugins import NotificationManager

    scheme = url.split("://", 1)[0].lower()
    if scheme not in NotificationManager():  # type: ignore[no-untyped-call]
        return f"Apprise does not know the scheme {scheme!r}: {mask_url(url)}"
    try:
        import apprise

        apprise.Apprise.instantiate(url, suppress_exceptions=False)
        said = "its plugin does not read this form"
    except Exception as exc:
        said = mask_text(str(exc), candidates(url)) or type(exc).__name__
    return f"Apprise knows {scheme}:// but cannot read this URL ({said}): {mask_url(url)}"


@functools.lru_cache(maxsize=256)
def _plugin(url: str) -> Any:
    import apprise

    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:
        return None


def _private_values(plugin: Any, parsed: dict[str, Any]) -> set[str]:
    values: set[str] = set()
    for group in (plugin.template_tokens, plugin.template_args):
        for name, spec in group.items():
            if not spec.get("private"):
                continue
            for key in (name, spec.get("map_to")):
                value = parsed.get(key) if key else None
                if isinstance(value, str):
                    values.add(value)
    return values


def _readable(private: str, original: str) -> str:
    """Apprise's privacy URL with only the query arguments the user wrote, unquoted."""
    given = {k.lower() for k, _ in parse_qsl(_query(original).replace("+", "%2B"))}
    parts = urlsplit(private)
    query = [
        (k, MASK if k.startswith(("+", "-")) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() in given
    ]
    kept = urlunsplit(parts._replace(query=urlencode(query, safe="@/:,*")))
    return unquote(kept)


def _query(url: str) -> str:
    """The query as Apprise reads it: after the first "?", even past a "#channel"."""
    return url.split("?", 1)[1] if "?" in url else ""


def _generic(url: str) -> str:
    parts = _safe_split(url)
    if parts is None or not parts.netloc:
        return MASK
    host = parts.hostname or ""
    user = f"{parts.username}:{MASK}@" if parts.password else ""
    port = f":{parts.port}" if _port(parts) else ""
    path = "/" + MASK if parts.path.strip("/") else ""
    query = "&".join(f"{k}={MASK}" for k, _ in parse_qsl(parts.query))
    return f"{parts.scheme}://{user}{host}{port}{path}" + (f"?{query}" if query else "")


def _safe_split(url: str) -> Any:
    try:
        parts = urlsplit(url)
        _ = parts.port
        return parts
    except ValueError:
        return None


def _port(parts: Any) -> int | None:
    try:
        return parts.port  # type: ignore[no-any-return]
    except ValueError:
        return None
