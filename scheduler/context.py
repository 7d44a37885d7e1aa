"""What every command works with: the validated config, the store, and the target URLs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from notify.masking import mask_url, secrets_of
from scheduler import logs
from scheduler.config import Config, interval_seconds
from storage import Store, ledger, open_store, posts

if TYPE_CHECKING:
    from notify.digest import Renderer


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


@dataclass
class Context:
    cfg: Config
    store: Store
    urls: dict[str, str] = field(default_factory=dict)  # url hash -> the real URL (never stored)

    @property
    def lease_ttl(self) -> float:
        return float(interval_seconds(self.cfg.storage.lease_ttl))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.timezone)

    def now(self) -> datetime:
        return datetime.now(self.zone)

    @cached_property
    def renderer(self) -> Renderer:
        from notify.digest import Renderer

        return Renderer(self.cfg.notify.templates or None)


def register_secrets(cfg: Config) -> None:
    """Every configured URL's secrets are masked in all log output from here on."""
    urls = [u for s in cfg.subscribers for u in s.urls] + cfg.notify.admin_urls
    logs.add_secrets(secret for url in urls for secret in secrets_of(url))
    logs.add_secrets([urlsplit(cfg.storage.url).password or ""])


def open_context(cfg: Config) -> Context:
    register_secrets(cfg)
    store = open_store(cfg.storage.url)
    urls = {url_hash(u): u for s in cfg.subscribers for u in s.urls}
    return Context(cfg, store, urls)


def sync(ctx: Context) -> None:
    """Mirror the configured boards and subscribers (routing data only) into the store."""
    cfg = ctx.cfg
    specs = [
        ledger.SubscriberSpec(
            name=s.name,
            targets=[(url_hash(u), mask_url(u)) for u in s.urls],
            boards=s.boards,
            keywords=s.keywords,
            exclude_keywords=s.exclude_keywords,
            include_updates=s.include_updates,
            digest=s.digest,
        )
        for s in cfg.subscribers
    ]
    with ctx.store.write() as session:
        posts.sync_boards(session, {b.name: b.display_title for b in cfg.boards})
        ledger.sync_subscribers(session, specs, ctx.now())
