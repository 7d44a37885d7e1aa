"""The benchmarks still run and still check what they promise: seconds-long smoke versions.

The figures in BENCHMARKS.md come from full runs; here only the behaviour is asserted (one list
page per quiet board, no heavy imports, every digest sent, no errors), never a speed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def smoke(script: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result.stdout + result.stderr


def test_soak_smoke_runs_clean() -> None:
    out = smoke("soak.py")
    assert "0 failed runs, 0 error lines in the log; exit code after SIGTERM: 0" in out, out


def test_quiet_run_smoke_fetches_one_list_page_per_board_and_no_heavy_imports() -> None:
    pytest.importorskip("urlwatch", reason="urlwatch (the comparison) is in the test extra")
    out = smoke("quiet_run.py")
    assert "list pages per board per quiet run: 1.00; heavy imports: none" in out, out


def test_backfill_smoke_walks_every_page() -> None:
    out = smoke("backfill.py")
    assert "400 posts: 21 list pages, 400 posts stored" in out, out  # 20 full, 1 empty: the end


def test_store_scale_smoke_runs() -> None:
    out = smoke("store_scale.py")
    assert "1,000 posts:" in out and "20,000 posts:" in out, out


def test_fanout_smoke_sends_every_digest() -> None:
    out = smoke("fanout.py")
    assert "50 subscribers: 50 digests in" in out, out
