"""Secrets inside URLs (passwords, tokens, webhook paths) masked for every message and log line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

MASK = "****"
# Schemes whose "host" part is itself a token (slack://TokenA/TokenB/TokenC, discord://id/token…).
TOKEN_HOSTS = frozenset(
    {
        "slack",
        "discord",
        "msteams",
        "tgram",
        "pover",
        "pushover",
        "ntfy",
        "gotify",
        "matrix",
        "json",
        "jsons",
        "form",
        "forms",
        "xml",
        "xmls",
        "apprise",
        "apprises",
    }
)
DATABASES = ("sqlite", "postgres", "mysql", "mariadb")
SAFE_QUERY = frozenset(
    {
        "to",
        "from",
        "name",
        "format",
        "mode",
        "smtp",
        "cc",
        "bcc",
        "verify",
        "footer",
        "image",
        "blocks",
        "channel",
        "priority",
        "reply",
    }
)
_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@")


def mask_url(url: str) -> str:
    """`mailto://user:****@host:25/?to=a@b`, `slack://T0…/****`: enough to recognise, no secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    database = parts.scheme.lower().startswith(DATABASES)
    if not parts.scheme or not (parts.netloc or database):
        return MASK
    host = parts.hostname or ""
    if parts.scheme.lower() in TOKEN_HOSTS:
        host = host[:2] + "…" if host else ""
    netloc = _userinfo(parts.username, parts.password) + host
    netloc += f":{parts.port}" if _port(parts) else ""
    path = parts.path if database else ("/" + MASK if parts.path.strip("/") else "")
    return f"{parts.scheme}://{netloc}{path}{_query(parts.query)}"


def _userinfo(user: str | None, password: str | None) -> str:
    if user is None:
        return ""
    return f"{user}:{MASK}@" if password is not None else f"{user}@"


def _port(parts: object) -> int | None:
    try:
        return parts.port  # type: ignore[attr-defined, no-any-return]
    except ValueError:
        return None


def _query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return ""
    shown = [f"{k}={v if k.lower() in SAFE_QUERY else MASK}" for k, v in pairs]
    return "?" + "&".join(shown)


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Passwords of URLs in `text` masked, and every known secret string too."""
    text = _PASSWORD.sub(rf"\1{MASK}@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def secrets_of(url: str) -> list[str]:
    """The pieces of `url` that must never be shown: password, path tokens, secret query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [url, parts.password or ""]
    found += [seg for seg in parts.path.split("/") if len(seg) >= 6]
    found += [v for k, v in parse_qsl(parts.query) if k.lower() not in SAFE_QUERY and len(v) >= 4]
    host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
    if parts.scheme.lower() in TOKEN_HOSTS and host:
        found.append(host)
    return sorted({s for s in found if s}, key=len, reverse=True)
