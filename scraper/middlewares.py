"""Downloader middlewares: retries with backoff (Scrapy retries at once; a struggling site
deserves a pause), and redirects kept to the board's own site."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response


class BackoffMiddleware:
    """Before the n-th retry of a request, wait `RETRY_BACKOFF` × 2**(n-1) seconds (max 60)."""

    def __init__(self, base: float) -> None:
        self.base = base

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        return cls(crawler.settings.getfloat("RETRY_BACKOFF", 1.0))

    async def process_request(self, request: Request) -> None:
        tries = request.meta.get("retry_times", 0)
        if tries and self.base > 0:
            await asyncio.sleep(min(self.base * 2 ** (tries - 1), 60.0))


class SameSiteRedirectMiddleware:
    """A redirect that leaves the board's host is not followed: a post link that redirects to
    another host (an internal address, say) must not have that page's text mailed out, and a
    list page must not be fetched from a site whose robots.txt was never read."""

    REDIRECTS = frozenset({301, 302, 303, 307, 308})

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status in self.REDIRECTS and location:
            target = urljoin(request.url, location.decode("latin-1"))
            if urlsplit(target).hostname != urlsplit(request.url).hostname:
                host = urlsplit(target).hostname or target
                raise IgnoreRequest(f"redirected to another site ({host}); not followed")
        return response
