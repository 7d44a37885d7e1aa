"""The store: posts and their identity, crawl runs, and the delivery ledger.

Imports nothing from its sibling packages; callers hand it plain data and get plain data back.
"""

from __future__ import annotations

from storage.db import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
