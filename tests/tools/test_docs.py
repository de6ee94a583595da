"""The operations reference is generated from the registry and kept in sync with it."""

from __future__ import annotations

from pathlib import Path

from tools.docs import render

ROOT = Path(__file__).resolve().parents[2]


def test_operations_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/operations.md is stale: run `python -m tools.docs > docs/operations.md`"
