"""What every command works with: the validated config, the store, and the target URLs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from notify.masking import identity, known_scheme, mask_url, unreadable
from scheduler import logs
from scheduler.config import Config, ConfigError
from scheduler.config_values import interval_seconds
from storage import Store, StoreError, ledger, open_store, posts, runs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from notify.digest import Renderer


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


@dataclass
class Context:
    cfg: Config
    store: Store
    urls: dict[str, str] = field(default_factory=dict)  # url hash -> the real URL (never stored)
    store_down: str | None = None  # why the store could not be opened at start (the daemon's)

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
    """Every configured URL's secrets, and the secret that signs unsubscribe links, are masked
    in all log output from here on."""
    urls = [u for s in cfg.subscribers for u in s.urls] + cfg.notify.admin_urls
    logs.add_secrets(urls, [urlsplit(cfg.storage.url).password or "", cfg.http.secret])


def open_context(cfg: Config, *, read_only: bool = False, waiting: bool = False) -> Context:
    """The store opened (its schema created or upgraded) for `cfg`, its target URLs checked.
    `read_only`: for commands that change nothing in the store (`status`, `posts`, …).
    `waiting`: the daemon's start — a store that cannot be opened yet (its disk full, its folder
    not mounted, its server down) is no reason not to start: the store is opened later, by the
    cycle that finds it back (`store_down` says why it could not be now)."""
    register_secrets(cfg)
    down: str | None = None
    try:
        store = open_store(cfg.storage.url)
    except StoreError as exc:
        if not waiting:
            raise
        store, down = Store(cfg.storage.url), str(exc)
    check_targets(cfg, None if down else store, remember=not read_only)
    urls = {url_hash(u): u for s in cfg.subscribers for u in s.urls}
    return Context(cfg, store, urls, down)


def load_context(config: str | None, *, read_only: bool = False, waiting: bool = False) -> Context:
    """The context of the config file `config` (or the default one), loaded and validated."""
    from scheduler.config_file import config_path, load

    return open_context(load(config_path(config)), read_only=read_only, waiting=waiting)


def target_urls(cfg: Config) -> list[tuple[str, str]]:
    """Every target URL with the key that names it in the config."""
    found = [
        (f"subscribers[{i}].urls[{j}]", url)
        for i, sub in enumerate(cfg.subscribers)
        for j, url in enumerate(sub.urls)
    ]
    return found + [(f"notify.admin_urls[{j}]", u) for j, u in enumerate(cfg.notify.admin_urls)]


def check_targets(cfg: Config, store: Store | None, *, remember: bool = True) -> None:
    """Every target URL is one Apprise reads (scheme and form): a config error before any board
    is crawled. URLs checked before (by hash, in the store) are not checked again, so a run
    whose targets are known never loads Apprise for it; `remember` records the new ones."""
    urls = target_urls(cfg)
    hashes = [url_hash(url) for _, url in urls]
    known: set[str] = set()
    if store is not None:
        with store.read() as session:
            known = ledger.known_urls(session, hashes)
    for (key, url), digest in zip(urls, hashes, strict=True):
        if digest not in known and not known_scheme(url):
            raise ConfigError(cfg.path, key, unreadable(url))
    if store is not None and remember and set(hashes) - known:
        with store.write() as session:
            ledger.remember_urls(session, hashes, datetime.now(ZoneInfo("UTC")))


def configured(ctx: Context, session: Session) -> runs.Configured:
    """The boards and subscribers of the config (routing data only), as the store mirrors them."""
    known = ledger.known_targets(session)
    specs = [
        ledger.SubscriberSpec(
            name=s.name,
            targets=[_target(url, known.get(url_hash(url))) for url in s.urls],
            boards=s.boards,
            keywords=s.keywords,
            exclude_keywords=s.exclude_keywords,
            include_updates=s.include_updates,
            digest=s.digest,
        )
        for s in ctx.cfg.subscribers
    ]
    return runs.Configured({b.name: b.display_title for b in ctx.cfg.boards}, specs)


def _target(url: str, known: ledger.TargetSpec | None) -> ledger.TargetSpec:
    """A configured target as the store keeps it: only one the store has not seen (or has seen
    without an identity, before 0008) is masked and identified here (with Apprise)."""
    if known is not None and known.identity is not None:
        return known
    masked = known.masked if known is not None else mask_url(url)
    return ledger.TargetSpec(url_hash(url), masked, identity(url))


def sync(ctx: Context) -> None:
    """Mirror the configured boards and subscribers into the store (only commands that crawl or
    send do: read-only ones show `configured` without writing it)."""
    with ctx.store.write() as session:
        config = configured(ctx, session)
        posts.sync_boards(session, config.boards)
        ledger.sync_subscribers(session, config.subscribers, ctx.now())
