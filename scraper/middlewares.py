"""Retries with backoff: Scrapy retries at once; a struggling site deserves a pause."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler


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
