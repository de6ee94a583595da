"""Fault suite: every test records one row; the rows are printed as a table at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.mcp.conftest import audit  # noqa: F401  (the MCP tests' in-memory audit log, for the fault tests too)


@dataclass
class FaultRow:
    fault: str
    where: str
    outcome: str
    runs_expected: int
    runs_actual: int

    @property
    def lost(self) -> int:
        return max(self.runs_expected - self.runs_actual, 0)

    @property
    def duplicated(self) -> int:
        return max(self.runs_actual - self.runs_expected, 0)


ROWS: list[FaultRow] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    terminalreporter.section("fault suite")
    header = f"{'fault injected':<34} | {'where':<34} | {'outcome':<10} | runs exp/act | lost | duplicated"
    terminalreporter.write_line(header)
    terminalreporter.write_line("-" * len(header))
    for row in ROWS:
        terminalreporter.write_line(
            f"{row.fault:<34} | {row.where:<34} | {row.outcome:<10} | {row.runs_expected:>4}/{row.runs_actual:<7} |"
            f" {row.lost:>4} | {row.duplicated:>10}"
        )
