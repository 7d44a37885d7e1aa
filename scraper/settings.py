"""The crawl's Scrapy settings, in the scraper that owns the crawl.

What a walk does not use is off, Scrapy's documented way (None in the component settings): the
cookie jar (a crawler without a session is what a reader without one sees), HTTP auth, the
cache, meta refresh, depth and URL-length limits, the telnet console, remote control, memory
checks, feeds, throttling, and the schemes a board is never on. The origin check, the back-off
and the per-site limit are ours; robots.txt is Scrapy's middleware, subclassed with the store as
its cache (`scraper.robots`).

What that costs: Scrapy (2.15 to 2.19 at least; scrapy/scrapy#8005) imports every component it is
given, None or not, to normalise the lists — and every one its `*_BASE` lists leave on, to build it
(a component a setting turns off says NotConfigured only once imported) — so remote control and
cookies, on or off, import aiohttp and tldextract into every run that crawls — measured here
(2026-12-06, 11 alternated pairs of a 1-board quiet `scrape once` against the same lists given whole
as the `*_BASE` settings, which Scrapy's docs say to leave alone): ×1.20 the CPU of a 1-board run,
×1.07 of a 300-board one, +12 MiB (BENCHMARKS.md, "The crawl Scrapy's way").
"""

from __future__ import annotations

from collections.abc import Mapping

# Ours, and Scrapy's that a walk does not use (None); the rest of Scrapy's stay as Scrapy sets them.
DOWNLOADER_MIDDLEWARES: Mapping[str, int | None] = {
    "scraper.middlewares.OriginMiddleware": 50,  # before anything else: off-site, nothing
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.robots.RobotsMiddleware": 100,  # Scrapy's, with the store as its cache
    "scraper.middlewares.BackoffMiddleware": 560,  # a pause before each retry
    "scraper.middlewares.SiteLimitMiddleware": 990,  # next to the handler: per-site limit, delay
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # OriginMiddleware's job
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
}
SPIDER_MIDDLEWARES: Mapping[str, int | None] = {
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
EXTENSIONS: Mapping[str, int | None] = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.memusage.MemoryUsage": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
    "scrapy.extensions.closespider.CloseSpider": None,
    "scrapy.extensions.feedexport.FeedExporter": None,
    "scrapy.extensions.logstats.LogStats": None,
    "scrapy.extensions.logcount.LogCount": None,
    "scrapy.extensions.spiderstate.SpiderState": None,
    "scrapy.extensions.throttle.AutoThrottle": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}
DOWNLOAD_HANDLERS: Mapping[str, str | None] = {
    scheme: None for scheme in ("data", "file", "s3", "ftp")
}


def crawl_settings(
    *,
    user_agent: str,
    obey_robots: bool,
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
        "ROBOTSTXT_OBEY": obey_robots,
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
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "SPIDER_MIDDLEWARES": dict(SPIDER_MIDDLEWARES),
        "EXTENSIONS": dict(EXTENSIONS),
        "DOWNLOAD_HANDLERS": dict(DOWNLOAD_HANDLERS),
    }
