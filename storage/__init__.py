"""The store: posts and their identity, crawl runs and health, and the delivery ledger.

Imports nothing from its sibling packages; callers hand it plain records (`records.post`) and
get plain records back.
"""

from __future__ import annotations

from storage.db import Store, open_store
from storage.errors import StoreError

__all__ = ["Store", "StoreError", "open_store"]
