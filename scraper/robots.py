"""robots.txt, Scrapy's way: Scrapy's `RobotsTxtMiddleware` decides every request a walk makes to
its board's own site (list pages, post pages, redirect hops there), subclassed for what a watcher
needs besides. An `also_fetch` origin is the operator's word: its robots.txt is not asked.

- **The store is its cache.** The robots.txt an earlier run read and is still fresh comes in a
  setting (`ROBOTS_KNOWN`); one read now goes out with the `robots_read` signal, which the store
  pipeline keeps for as long as its headers (or `ROBOTS_TTL`) say.
- **A site that cannot be reached fails its boards at once**, for that cause: the requests that
  wait for its robots.txt fail with the same error instead of asking again (with retries).
- **An answer that is not robots.txt allows all**, as Scrapy's does — a 5xx, or a robots.txt that
  could not be had for another reason, with a warning in our words; a 4xx (no robots.txt) is kept.
- The request for it names its site as its only origin, so `OriginMiddleware` keeps its
  redirects on the site, as every other request's.
- What it decides reaches the spider with Scrapy's `robots_parsed` signal, so a walk can end as
  robots.txt asks (page N disallowed) rather than fail on an ignored request.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response, TextResponse
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.misc import build_from_crawler
from w3lib.url import safe_url_string

from scraper.failures import Words, in_words
from scraper.middlewares import ORIGINS
from scraper.origins import origin_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

LOG = logging.getLogger(__name__)
ROBOTS_KNOWN = "BOARDWATCH_ROBOTS_KNOWN"  # site -> body (None: all allowed), fresh in the store
ROBOTS_TTL = "BOARDWATCH_ROBOTS_TTL"  # how long one read now is trusted, unless its headers say
ROBOTS_SITE = "robots_site"  # a request's meta: its board's site as configured (`site_of`)
robots_read = object()  # signal: site, body (None: all allowed), ttl — a robots.txt read now

UNREACHABLE = (DownloadConnectionRefusedError, CannotResolveHostError, DownloadTimeoutError)


@functools.cache
def _origin(site: str) -> str:
    return origin_of(safe_url_string(site))  # as Scrapy writes a request's address (IDN, case)


def on_site(url: str, site: str) -> bool:
    """Is `url` on `site` (a board's site as its config writes it), so its robots.txt rules?"""
    return origin_of(url) == _origin(site)


class Disallowed(IgnoreRequest):
    """robots.txt disallows the address."""


class RobotsMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)  # NotConfigured unless ROBOTSTXT_OBEY
        settings = crawler.settings
        self._ttl = settings.getfloat(ROBOTS_TTL, 86400.0)
        self._known: dict[str, str | None] = dict(settings.getdict(ROBOTS_KNOWN))
        self._unreachable: dict[str, Exception] = {}  # site -> why it could not be reached
        # the requests that wait for a site's robots.txt, each to hear the rules: Scrapy's own
        # has them all await one Deferred (since scrapy/scrapy#6802), which hands the rules to
        # the first two only — the others get None and go ahead as if all were allowed
        # (tests/e2e/test_once.py, "every board that waits", fails that way)
        self._reading: dict[str, asyncio.Future[RobotParser | None]] = {}

    async def process_request(self, request: Request, spider: Any = None) -> None:
        """A request to its board's own site obeys that site's robots.txt; one elsewhere (an
        `also_fetch` origin, the operator's word; a stored post's old address) is not asked."""
        if request.meta.get("dont_obey_robotstxt") or not self._own_site(request):
            return
        parser = await self.robot_parser(request)
        failed = self._unreachable.get(request.meta[ROBOTS_SITE])
        if failed is not None:  # its robots.txt said why: the same, now, without retrying
            request.meta["dont_retry"] = True
            raise failed
        self.process_request_2(parser, request)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise Disallowed(f"robots.txt disallows {request.url}") from None

    def _own_site(self, request: Request) -> bool:
        site = request.meta.get(ROBOTS_SITE)
        return site is not None and on_site(request.url, site)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The rules of the request's board's site — by scheme, host and port as its config
        writes them, the key the store keeps them under (Scrapy's own keeps them by host and
        port: http:// and https:// on one port are two sites, one of which may not answer)."""
        site = request.meta[ROBOTS_SITE]
        if site in self._parsers:
            return self._parsers[site]  # type: ignore[return-value]  # never a Deferred here
        if site in self._reading:
            return await self._reading[site]
        reading = self._reading[site] = asyncio.get_running_loop().create_future()
        parser = None
        try:
            parser = await self._read(request, site)
        finally:  # whatever happened, the requests waiting for it go on (allowed, at worst)
            self._parsers[site] = parser
            reading.set_result(parser)
            del self._reading[site]
        return parser

    async def _read(self, request: Request, site: str) -> RobotParser | None:
        """The site's rules: known from the store, else read now (and told to the store)."""
        if site in self._known:
            return await self._parsed(self._known[site], request)
        robots = Request(
            f"{site}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            # its own answer, as it comes: a redirect is not followed (a 3xx allows all, as
            # before), and only its site may answer (`OriginMiddleware`)
            meta={
                "dont_obey_robotstxt": True,
                "handle_httpstatus_all": True,
                ORIGINS: {_origin(site)},
            },
            callback=NO_CALLBACK,
            dont_filter=True,
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(robots)
        except Exception as exc:
            self._failed(exc, site)
            return None
        if response.status >= 500:
            LOG.warning("%s answered %s; crawling as allowed", robots.url, response.status)
            return None
        text = response.status < 400 and isinstance(response, TextResponse)
        body = response.text if text else None
        await self.crawler.signals.send_catch_log_async(
            signal=robots_read, site=site, body=body, ttl=_fresh_for(response, self._ttl)
        )
        return await self._parsed(body, request)

    async def _parsed(self, body: str | None, request: Request) -> RobotParser | None:
        if not body:
            return None
        parser: RobotParser = build_from_crawler(self._parserimpl, self.crawler, body.encode())
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        return parser

    def _failed(self, exc: Exception, site: str) -> None:
        """robots.txt could not be had. Where the site cannot be reached at all (refused, no such
        host, no answer, a TLS mismatch) its boards fail now, for that cause; otherwise they are
        crawled as robots.txt allows all."""
        words = self._words(exc, f"{site}/robots.txt")
        if isinstance(exc, UNREACHABLE) or _unreachable(words):
            self._unreachable[site] = exc
            return
        LOG.warning("%s/robots.txt could not be read (%s); crawling as allowed", site, words.cause)

    def _words(self, error: BaseException, url: str) -> Words:
        settings = self.crawler.settings
        timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        return in_words(error, url, timeout=timeout, max_size=settings.getint("DOWNLOAD_MAXSIZE"))


def _unreachable(words: Words) -> bool:
    """A TLS mismatch reaches nothing either (an https:// address on a plain-HTTP port)."""
    return words.cause.startswith("TLS with") or "speaks plain HTTP" in words.cause


_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


def _fresh_for(response: Response, default: float) -> float:
    """How long a robots.txt may be trusted: as its caching headers say, else `default`."""
    control = (response.headers.get(b"Cache-Control") or b"").decode("latin-1")
    match = _MAX_AGE.search(control)
    return float(min(max(int(match[1]), 60), 7 * 86400)) if match else default
