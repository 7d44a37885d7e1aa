"""`scrape digest --preview`: each subscriber's pending digest as text; nothing sent or marked."""

from __future__ import annotations

from collections.abc import Sequence

from records.post import Entry
from scheduler.context import Context
from storage import ledger


def preview(ctx: Context, names: Sequence[str] | None) -> str:
    from notify.digest import build

    now = ctx.now()
    with ctx.store.read() as session:
        batches = ledger.pending(session, names)
    shown: dict[str, list[Entry]] = {}
    for batch in batches:  # a subscriber's targets may owe different entries: show each once
        seen = shown.setdefault(batch.subscriber, [])
        ids = {(e["id"], e.get("old_title")) for e in seen}
        seen += [e for e in batch.entries if (e["id"], e.get("old_title")) not in ids]
    parts = []
    for name, entries in shown.items():
        context = build(name, entries, now)
        parts.append(f"== {name}: {ctx.renderer.subject(context)}\n")
        parts.append(ctx.renderer.render("digest.txt.j2", "text", context))
    return "\n".join(parts) if parts else "nothing pending\n"
