"""The crawl's Scrapy settings are Scrapy's components, switched off Scrapy's documented way
(None in `DOWNLOADER_MIDDLEWARES`/`EXTENSIONS`/…, never the `*_BASE` settings): a crawl runs
with exactly the components a walk uses."""

from __future__ import annotations

import subprocess
import sys

from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list

from scraper.settings import crawl_settings


def _settings(obey_robots: bool = True) -> Settings:
    return Settings(
        crawl_settings(
            user_agent="t",
            obey_robots=obey_robots,
            concurrency=1,
            delay=0,
            timeout=1,
            retries=0,
            retry_backoff=0,
            max_size=1 << 20,
        )
    )


def _components(name: str, obey_robots: bool = True) -> list[str]:
    settings = _settings(obey_robots)
    return build_component_list(settings.get_component_priority_dict_with_base(name))


def test_no_base_setting_is_given() -> None:
    settings = _settings()  # a name the crawl gives is above Scrapy's own defaults (priority 0)
    given = [name for name in settings.copy_to_dict() if settings.getpriority(name)]
    assert "DOWNLOADER_MIDDLEWARES" in given
    assert [name for name in given if name.endswith("_BASE")] == []


def test_the_origin_check_comes_first_and_robots_txt_is_ours() -> None:
    middlewares = _components("DOWNLOADER_MIDDLEWARES")
    assert middlewares[:2] == [
        "scraper.middlewares.OriginMiddleware",
        "scraper.robots.RobotsMiddleware",
    ]
    assert middlewares[-1] == "scraper.middlewares.SiteLimitMiddleware"  # next to the handler
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" not in middlewares


def test_what_a_walk_does_not_use_is_off() -> None:
    middlewares = _components("DOWNLOADER_MIDDLEWARES")
    for off in ("cookies.CookiesMiddleware", "offsite.OffsiteMiddleware", "httpcache."):
        assert not [m for m in middlewares if off in m], off
    assert _components("EXTENSIONS") == ["scrapy.extensions.corestats.CoreStats"]
    handlers = _settings().getwithbase("DOWNLOAD_HANDLERS")
    assert handlers["ftp"] is None and handlers["s3"] is None and handlers["http"]


def test_scrapy_still_imports_the_components_it_is_told_to_leave_off() -> None:
    """What switching components off costs (BENCHMARKS.md, "The crawl Scrapy's way"): the day this fails,
    that cost is gone and the note there goes with it."""
    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "s = Settings({'EXTENSIONS': {'scrapy.extensions.remote_control.RemoteControl': None}})\n"
        "s.get_component_priority_dict_with_base('EXTENSIONS')\n"
        "print('scrapy.extensions.remote_control' in sys.modules)\n"
    )
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "True"
