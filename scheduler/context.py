"""What every command works with: the validated config, the store, and the target URLs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from notify.masking import identity, known_scheme, mask_url, unreadable
from scheduler.config import Config, ConfigError
from scheduler.config.values import VARIABLE, interval_seconds, unset_variables
from scheduler.ops import logs
from storage import Store, StoreError, ledger, mirror, open_store, posts, runs

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
    # the store mirrored this config when it was opened (`storage.mirror`): the first sync skips
    mirrored: bool = False

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
    usable = [u for u in urls if not unset_variables(u)]
    secret = "" if unset_variables(cfg.http.secret) else cfg.http.secret
    logs.add_secrets(usable, [urlsplit(cfg.storage.url).password or "", secret])


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
    mirrored = check_targets(cfg, None if down else store, remember=not read_only)
    urls = {url_hash(u): u for s in cfg.subscribers for u in s.urls if not unset_variables(u)}
    return Context(cfg, store, urls, down, mirrored)


def load_context(
    config: str | None,
    *,
    read_only: bool = False,
    needs_secrets: bool = True,
    waiting: bool = False,
) -> Context:
    """The context of the config file `config` (or the default one), loaded and validated.
    Without `needs_secrets` (commands that only show: `status`, `posts`, `digest --preview`)
    a target whose `${VAR}` is unset is kept, shown as not set (`not_set`). `waiting`: the
    daemon's start (see `open_context`)."""
    from scheduler.config.file import config_path, load

    cfg = load(config_path(config), unset_ok=not needs_secrets)
    return open_context(cfg, read_only=read_only, waiting=waiting)


def target_urls(cfg: Config) -> list[tuple[str, str]]:
    """Every target URL with the key that names it in the config."""
    found = [
        (f"subscribers[{i}].urls[{j}]", url)
        for i, sub in enumerate(cfg.subscribers)
        for j, url in enumerate(sub.urls)
    ]
    return found + [(f"notify.admin_urls[{j}]", u) for j, u in enumerate(cfg.notify.admin_urls)]


def not_set(url: str) -> str:
    """A target whose `${VAR}` is unset, as it is shown: its scheme (when the URL names one
    outside the variable) and the variables — nothing of the rest, which may hold secrets."""
    names = ", ".join(f"${{{name}}}" for name in unset_variables(url))
    scheme, sep, _ = url.partition("://")
    if sep and not unset_variables(scheme):
        return f"{scheme.lower()}://… ({names} not set)"
    return f"{names} not set"


def check_targets(cfg: Config, store: Store | None, *, remember: bool = True) -> bool:
    """Every target URL is one Apprise reads (scheme and form): a config error before any board
    is crawled. URLs checked before (by hash, in the store's `known_urls`) are not checked again,
    so a run whose targets are known never loads Apprise for it (loading it: ×1.15 the CPU of a
    1-board quiet `once`, +12 MiB; BENCHMARKS.md); `remember` records the new ones.

    True when the store mirrors `cfg` already (`storage.mirror`): the sync that made it so
    checked every subscriber's URL, so only the others are looked up — with 10,000
    subscribers, one row read instead of 10,000 hashes sent and read back."""
    urls = [(key, url) for key, url in target_urls(cfg) if not unset_variables(url)]
    hashes = [url_hash(url) for _, url in urls]
    known: set[str] = set()
    mirrored = False
    if store is not None:
        synced, subscribers, targets = mirrored_as(cfg)
        with store.read() as session:
            mirrored = mirror.mirrors(session, synced, subscribers=subscribers, targets=targets)
            if mirrored:
                known = {url_hash(url) for s in cfg.subscribers for url in s.urls}
            known |= ledger.known_urls(session, [h for h in hashes if h not in known])
    for (key, url), digest in zip(urls, hashes, strict=True):
        if digest not in known and not known_scheme(url):
            raise ConfigError(cfg.path, key, unreadable(url))
    if store is not None and remember and set(hashes) - known:
        with store.write() as session:
            ledger.remember_urls(session, hashes, datetime.now(ZoneInfo("UTC")))
    return mirrored


def configured(ctx: Context, session: Session) -> runs.Configured:
    """The boards and subscribers of the config (routing data only), as the store mirrors them."""
    known = ledger.known_targets(session)
    specs = [
        ledger.SubscriberSpec(
            name=s.name,
            targets=[_target(url, known) for url in s.urls],
            boards=s.boards,
            keywords=s.keywords,
            exclude_keywords=s.exclude_keywords,
            include_updates=s.include_updates,
            digest=s.digest,
        )
        for s in ctx.cfg.subscribers
    ]
    return runs.Configured({b.name: b.display_title for b in ctx.cfg.boards}, specs)


def _target(url: str, stored: Mapping[str, ledger.TargetSpec]) -> ledger.TargetSpec:
    """A configured target as the store keeps it: only one the store has not seen (or has seen
    without an identity, before 0008) is masked and identified here (with Apprise)."""
    if unset_variables(url):
        return _unset_target(url)
    known = stored.get(url_hash(url))
    if known is not None and known.identity is not None:
        return known
    masked = known.masked if known is not None else mask_url(url)
    return ledger.TargetSpec(url_hash(url), masked, identity(url))


STAND_IN = "0bwunset0"  # in place of an unset ${VAR}: a value Apprise reads as the secret it is


def _unset_target(url: str) -> ledger.TargetSpec:
    """A target whose `${VAR}` is unset (commands that only show): it has no URL to hash, so
    it stands for the stored target an edit of that secret would take over from — the one that
    names what it names apart from its secrets, else the one of its scheme, else all of the
    subscriber's (`storage.accounts`) — and so counts the same pending entries."""
    stand_in = VARIABLE.sub(STAND_IN, url)
    return ledger.TargetSpec(url_hash(url), not_set(url), identity(stand_in))


def sync(ctx: Context) -> None:
    """Mirror the configured boards and subscribers into the store (only commands that crawl or
    send do: read-only ones show `configured` without writing it). A config the store mirrors
    already costs one read (`storage.mirror`): with 10,000 subscribers, the whole sync was
    0.74 s of a 1.9 s quiet `once` (BENCHMARKS.md)."""
    if ctx.mirrored:  # found so as the context was opened, a moment ago
        ctx.mirrored = False  # once: a later sync (the daemon's, hours on) looks again
        return
    digest, subscribers, targets = mirrored_as(ctx.cfg)
    with ctx.store.read() as session:
        if mirror.mirrors(session, digest, subscribers=subscribers, targets=targets):
            return
    with ctx.store.write() as session:
        config = configured(ctx, session)
        posts.sync_boards(session, config.boards)
        ledger.sync_subscribers(session, config.subscribers, ctx.now())
        # after the sync: its lock (PostgreSQL) makes syncs starting together take turns here
        mirror.remember(session, digest, ctx.now())


MIRROR_FORMAT = 1  # raised when what a sync writes of the same config changes


def mirrored_as(cfg: Config) -> tuple[str, int, int]:
    """What a sync writes of `cfg`, as a digest (its targets by URL hash: an edited secret is
    another digest), and the active subscribers and targets it leaves."""
    boards = [(b.name, b.display_title) for b in cfg.boards]
    subscribers = [
        (
            s.name,
            [url_hash(url) for url in s.urls],
            s.boards,
            s.keywords,
            s.exclude_keywords,
            s.include_updates,
            s.digest,
        )
        for s in cfg.subscribers
    ]
    text = json.dumps([MIRROR_FORMAT, boards, subscribers], ensure_ascii=False, default=list)
    targets = sum(len({url_hash(url) for url in s.urls}) for s in cfg.subscribers)
    return hashlib.sha256(text.encode()).hexdigest(), len(subscribers), targets
