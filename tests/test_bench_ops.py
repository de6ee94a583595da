"""bench/bench_ops.py --quick runs end to end (real simulator, Slack app, `k6bot serve`) and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_ops_quick_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, "bench/bench_ops.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "| figure | k6bot | baseline | ratio | target | met? |" in lines
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| figure")]
    figures = " ".join(rows)
    for figure in (
        "tool layer vs raw httpx",
        "list 100 runs",
        "tools/list default",
        "tools/list all",
        "tool result per listed run",
        "Slack ack p99",
        "RSS `k6bot serve`",
        "investigate_test_run",
    ):
        assert figure in figures, figure
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 6, row
        assert cells[5] in {"yes", "NO", "—"}, row
