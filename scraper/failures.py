"""Why a board's page could not be had, in our words: the cause first, then what to do — as
delivery errors read (`notify.errors`). No class names, no `Failure` reprs: the library's own
words are kept only where nothing better is known, one line, after the cause."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError


@dataclass(frozen=True)
class Words:
    """A failure as a person reads it: what happened, and what to do about it."""

    cause: str
    hint: str = ""


def in_words(error: BaseException, url: str, *, timeout: float, max_size: int) -> Words:
    """The failure of a request for `url`, in our words."""
    said = _said(error)
    host = urlsplit(url).netloc or url
    if isinstance(error, HttpError):
        return _http(error.response.status)
    if isinstance(error, IgnoreRequest):  # ours: an address off the board's site, robots.txt
        return Words(said)
    if isinstance(error, DownloadConnectionRefusedError) or "connection refused" in said.lower():
        return Words(f"{host} refused the connection", "is the site up, and the port right?")
    if isinstance(error, CannotResolveHostError) or "dns lookup failed" in said.lower():
        name = urlsplit(url).hostname or host
        return Words(f"host {name} not found (DNS)", "check the host name in the board's url")
    if isinstance(error, DownloadTimeoutError) or "timed out" in said.lower():
        return Words(
            f"{host} did not answer within {timeout:g} s", "it is tried again on the next run"
        )
    if "wrong version number" in said or "packet length too long" in said:
        return Words(f"{host} speaks plain HTTP, not HTTPS", "use http:// in the board's url")
    if _TLS.search(said):
        return Words(
            f"TLS with {host} failed ({_tls_reason(said)})",
            "check the site's certificate, or whether it speaks https on this port",
        )
    if isinstance(error, DownloadCancelledError) or "maxsize" in said.lower():
        return Words(
            f"the page is larger than max_page_size ({_size(max_size)}); it was not read",
            "raise [crawl] max_page_size if the page is right",
        )
    if isinstance(error, ResponseDataLossError):
        return Words(f"{host} cut the page off before its end", "it is tried again next run")
    if isinstance(error, DownloadFailedError):
        return Words(f"the download from {host} failed: {said}", "it is tried again next run")
    return Words(said or type(error).__name__)


def _http(status: int) -> Words:
    try:
        name = HTTPStatus(status).phrase
    except ValueError:
        name = ""
    said = f"HTTP {status}{' ' + name if name else ''}"
    if status in (401, 403):
        return Words(
            f"{said}: the site refuses the request",
            "check the url, and whether the page needs a login or blocks the user_agent",
        )
    if status in (404, 410):
        return Words(f"{said}: no page at this address", "check the board's url")
    if status == 429:
        return Words(f"{said}: the site asks for fewer requests", "raise [crawl] delay")
    if status >= 500:
        return Words(f"{said}: the site failed to answer", "it is tried again next run")
    return Words(said)


_FAILURE = re.compile(r"<twisted\.python\.failure\.Failure [\w.]+: (.*?)>", re.DOTALL)
_TLS = re.compile(r"\bSSL\b|certificate|handshake|\bTLS\b", re.IGNORECASE)


def _said(error: BaseException) -> str:
    """The library's own words, one line, without `Failure` reprs or list brackets."""
    text = str(error)
    text = _FAILURE.sub(lambda m: m[1], text)
    text = text.strip().strip("[]").strip()
    return " ".join(text.split())


def _tls_reason(said: str) -> str:
    quoted = re.findall(r"'([^']{6,})'", said)
    return quoted[-1] if quoted else said[:120]


def _size(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"
