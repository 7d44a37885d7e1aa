"""Prometheus metrics, read from the store at each scrape, so the figures are the same whichever
worker or cron run did the work: the daemon serves them at `/metrics` on `[http] address`
(`scheduler.web`); `scrape once` writes them to `[metrics] textfile` (node_exporter's textfile
collector) after its run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import Store, locks, totals

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry


class StoreCollector:
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self.store.read() as session:
            boards = totals.board_totals(session)
            targets = totals.target_totals(session)
            held = totals.leases(session, locks.now(session))
        by_board: dict[str, tuple[str, Callable[[totals.BoardTotals], float]]] = {
            "runs": ("Crawl runs of the board", lambda b: b.runs),
            "failures": ("Crawl runs of the board that failed", lambda b: b.failures),
            "new_posts": ("New posts the board's runs found", lambda b: b.new_posts),
            "list_pages": ("List pages the board's runs read", lambda b: b.pages),
            "crawl_seconds": ("Seconds the board's runs took", lambda b: b.crawl_seconds),
        }
        for name, (text, value) in by_board.items():
            family = CounterMetricFamily(f"boardwatch_board_{name}", text, labels=["board"])
            for board in boards:
                family.add_metric([board.board], value(board))
            yield family
        success = GaugeMetricFamily(
            "boardwatch_board_last_success_timestamp_seconds",
            "When the board's last successful run ended (Unix time)",
            labels=["board"],
        )
        up = GaugeMetricFamily(
            "boardwatch_board_up", "1 when the board's last run succeeded", labels=["board"]
        )
        for board in boards:
            if board.last_success_at:
                success.add_metric([board.board], board.last_success_at.timestamp())
            up.add_metric([board.board], 1.0 if board.last_result == "ok" else 0.0)
        yield success
        yield up
        labels = ["subscriber", "target"]
        sent = CounterMetricFamily(
            "boardwatch_target_sent", "Entries the target accepted", labels=labels
        )
        failed = CounterMetricFamily(
            "boardwatch_target_failed", "Sends of an entry the target refused", labels=labels
        )
        pending = GaugeMetricFamily(
            "boardwatch_target_pending_entries", "Entries waiting for the target", labels=labels
        )
        failing = GaugeMetricFamily(
            "boardwatch_target_failing_sends", "Sends the target refused in a row", labels=labels
        )
        for t in targets:
            key = [t.subscriber, t.target]
            sent.add_metric(key, t.delivered)
            failed.add_metric(key, t.failed_attempts)
            pending.add_metric(key, t.pending)
            failing.add_metric(key, t.failing)
        yield from (sent, failed, pending, failing)
        lease = GaugeMetricFamily(
            "boardwatch_lease_held",
            "1 for each lease held now, by its holder",
            labels=["lease", "owner"],
        )
        for item in held:
            lease.add_metric([item.name, item.owner], 1.0)
        yield lease


def registry(store: Store) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry

    found = CollectorRegistry(auto_describe=False)
    found.register(StoreCollector(store))
    return found


def write_textfile(path: str, store: Store) -> None:
    """The metrics in node_exporter's textfile format, replaced whole."""
    from prometheus_client import write_to_textfile

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(path, registry(store))
