"""The crawl's settings give Scrapy's component lists whole (`*_BASE`) for one measured reason
(`scraper/settings.py`): naming a component with None to turn it off imports it
(`Settings.get_component_priority_dict_with_base`, as Scrapy builds its component lists). The day Scrapy
stops that, this test fails, and the components can be switched off Scrapy's documented way."""

from __future__ import annotations

import subprocess
import sys


def test_turning_a_component_off_with_none_still_imports_it() -> None:
    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "s = Settings({'EXTENSIONS': {'scrapy.extensions.remote_control.RemoteControl': None}})\n"
        "s.get_component_priority_dict_with_base('EXTENSIONS')\n"
        "print('scrapy.extensions.remote_control' in sys.modules)\n"
    )
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "True"


def test_a_crawl_imports_none_of_the_components_it_leaves_off() -> None:
    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from scraper.settings import crawl_settings\n"
        "settings = crawl_settings(user_agent='t', concurrency=1, delay=0, timeout=1, retries=0,"
        " retry_backoff=0, max_size=1 << 20)\n"
        "s = Settings(settings)\n"
        "for name in ('EXTENSIONS', 'DOWNLOADER_MIDDLEWARES', 'SPIDER_MIDDLEWARES'):\n"
        "    s.get_component_priority_dict_with_base(name)\n"
        "print([m for m in ('aiohttp', 'tldextract', 'twisted.conch') if m in sys.modules])\n"
    )
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "[]", said.stderr
