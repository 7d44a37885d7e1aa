"""`scrape digest --preview`: each subscriber's pending digest as text; nothing sent or marked."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.context import Context, configured
from storage import ledger


def preview(ctx: Context, names: Sequence[str] | None) -> str:
    """What is pending for the configured subscribers (`names`, or all), each entry once —
    the config as it is, not as the store was last synced to it."""
    from notify.digest import build

    now = ctx.now()
    with ctx.store.read() as session:
        specs = configured(ctx, session).subscribers
        wanted = [spec for spec in specs if names is None or spec.name in names]
        shown = ledger.owed_entries(session, wanted)
    parts = []
    for name, entries in shown.items():
        context = build(name, entries, now, links={b.name: b.url for b in ctx.cfg.boards})
        parts.append(f"== {name}: {ctx.renderer.subject(context)}\n")
        parts.append(ctx.renderer.render("digest.txt.j2", "text", context))
    return "\n".join(parts) if parts else "nothing pending\n"
