"""robots.txt per site, shared by every run (cron or daemon, any worker): read at most once per
`[crawl] robots_ttl` (or as its caching headers say) per site."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Robots

Rules = str | None  # a robots.txt body; None: everything is allowed


def fresh(session: Session, sites: Collection[str], now: datetime) -> dict[str, Rules]:
    """The sites whose robots.txt is still fresh, with it."""
    if not sites:
        return {}
    query = select(Robots.site, Robots.body).where(Robots.site.in_(sites), Robots.expires_at > now)
    return {site: body for site, body in session.execute(query)}


def remember(session: Session, read: Mapping[str, tuple[Rules, float]], now: datetime) -> None:
    """Keep what this run read: site -> (body, seconds it stays fresh)."""
    for site, (body, ttl) in read.items():
        record = session.get(Robots, site) or Robots(site=site)
        record.body, record.fetched_at = body, now
        record.expires_at = now + timedelta(seconds=ttl)
        session.add(record)
