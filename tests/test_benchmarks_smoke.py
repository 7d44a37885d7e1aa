"""The benchmarks still run: seconds-long smoke versions (the figures come from full runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_soak_smoke_runs_clean() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "0 failed runs, 0 error lines in the log; exit code after SIGTERM: 0" in result.stdout, (
        result.stdout + result.stderr
    )
