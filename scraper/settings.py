"""The crawl's Scrapy settings, in the scraper that owns the crawl.

What a walk does not use is off: the cookie jar (a crawler without a session is what a reader
without one sees), HTTP auth, the cache, meta refresh, depth and URL-length limits, the telnet
console, remote control, memory checks, feeds, throttling; the origin check, the back-off and
the per-site limit are ours.

Why the component lists are given whole, as the `*_BASE` settings, rather than switched off
one by one in `DOWNLOADER_MIDDLEWARES`/`EXTENSIONS` with None (Scrapy's documented way):
since Scrapy 2.15 `Settings.get_component_priority_dict_with_base` loads every key it is given,
None or not, to normalise it (scrapy/scrapy#8005 names it), so turning off remote control,
cookies and telnet that way imports aiohttp, tldextract and twisted.conch into every process —
measured here
(2026-12-06, farm-bench, 9 alternated pairs of a 1-board quiet `scrape once`): +16 % CPU
(+0.17 s) a run. Checked against Scrapy 2.19; `tests/scraper/test_settings.py` fails the day
naming a component with None stops importing it, and this goes then.
"""

from __future__ import annotations

from collections.abc import Mapping

# The components a walk uses, whole (see the docstring for why not Scrapy's lists with None).
DOWNLOADER_MIDDLEWARES: Mapping[str, int] = {
    "scraper.middlewares.OriginMiddleware": 50,  # before anything else: off-site, nothing
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": 350,
    "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": 400,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": 550,
    "scraper.middlewares.BackoffMiddleware": 560,  # a pause before each retry
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": 750,
    "scraper.middlewares.SiteLimitMiddleware": 990,  # next to the handler: per-site limit, delay
}
SPIDER_MIDDLEWARES: Mapping[str, int] = {
    "scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25,
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": 50,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": 700,
}
EXTENSIONS: Mapping[str, int] = {"scrapy.extensions.corestats.CoreStats": 0}
DOWNLOAD_HANDLERS: Mapping[str, str] = {
    "http": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
    "https": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
}


def crawl_settings(
    *,
    user_agent: str,
    concurrency: int,
    delay: float,
    timeout: float,
    retries: int,
    retry_backoff: float,
    max_size: int,
) -> dict[str, object]:
    """One crawl's settings: concurrency and delay are per site, across its boards."""
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": False,  # the spider reads robots.txt itself, before any list page
        "CONCURRENT_REQUESTS": 64,  # across sites: boards spread over many sites go in parallel
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": delay,
        # `delay` is a floor: Scrapy would wait 0.5-1.5x it at random (a site asking for one
        # request a second saw 18.5 % of them closer than that); exactly it, never less
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "DOWNLOAD_TIMEOUT": timeout,
        "RETRY_TIMES": retries,
        "RETRY_BACKOFF": retry_backoff,
        "CONCURRENT_ITEMS": 1,  # one item per board walk: no task pool per response
        "DOWNLOAD_MAXSIZE": max_size,  # also the most a page may unpack to
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 5,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        # Scrapy reads the source of every generator callback on every response to warn about
        # `return` values in generators (ours return none): that cost more than reading a page.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOADER_MIDDLEWARES_BASE": dict(DOWNLOADER_MIDDLEWARES),
        "SPIDER_MIDDLEWARES_BASE": dict(SPIDER_MIDDLEWARES),
        "EXTENSIONS_BASE": dict(EXTENSIONS),
        "DOWNLOAD_HANDLERS_BASE": dict(DOWNLOAD_HANDLERS),
    }
