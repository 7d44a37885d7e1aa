"""A board's own site: the origins (scheme, host and port) its requests may go to. Every request
for a board — list pages, post pages, links a page's script builds, each redirect hop,
robots.txt — goes to the board's origin or to one its config names (`also_fetch`); an address a
page names anywhere else is reported, never requested (`scraper.middlewares.OriginMiddleware`
holds every request to it)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """`scheme://host:port`, the port always written (`http://a.kr` is `http://a.kr:80`), the
    host lowercased; "" for an address that has none (a relative or broken one)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ""
    if not parts.hostname or port is None:
        return ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}:{port}"


def origins(url: str, also: Iterable[str] = ()) -> frozenset[str]:
    """The origins a board at `url` may fetch from: its own, and those it lists."""
    return frozenset(found for address in (url, *also) if (found := origin_of(address)))


def within(url: str, allowed: Collection[str]) -> bool:
    """May a board whose origins are `allowed` request `url`?"""
    found = origin_of(url)
    return bool(found) and found in allowed


def shown(origin: str) -> str:
    """An origin as a person writes it: without the port its scheme implies."""
    scheme, _, rest = origin.partition("://")
    host, _, port = rest.rpartition(":")
    return f"{scheme}://{host}" if _DEFAULT_PORTS.get(scheme) == int(port or 0) else origin
