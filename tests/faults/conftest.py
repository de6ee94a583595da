"""Fault suite: every test records one row; the rows are printed as a table at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.mcp.conftest import audit  # noqa: F401  (the MCP tests' in-memory audit log, for the fault tests too)
from tests.service.conftest import (  # noqa: F401  (`k6bot serve` in a subprocess, for the kill -9 tests)
    frozen_sim,
    frozen_sim_url,
    run_serve,
    serve_env,
    slack,
)
from tests.slack.conftest import fake_slack, make_harness, slack_sim  # noqa: F401  (the Slack app over real HTTP)


@dataclass
class FaultRow:
    fault: str
    where: str
    outcome: str
    runs_expected: int
    runs_actual: int
    counted: str = "runs"
    """What the expected/actual numbers count: runs created, messages posted, …"""

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
    fault_w = max(len("fault injected"), *(len(r.fault) for r in ROWS))
    where_w = max(len("where"), *(len(r.where) for r in ROWS))
    outcome_w = max(len("outcome"), *(len(r.outcome) for r in ROWS))
    counted_w = max(len("counted"), *(len(r.counted) for r in ROWS))
    header = (
        f"{'fault injected':<{fault_w}} | {'where':<{where_w}} | {'outcome':<{outcome_w}} | "
        f"{'counted':<{counted_w}} | exp/act | lost | duplicated"
    )
    terminalreporter.write_line(header)
    terminalreporter.write_line("-" * len(header))
    for row in ROWS:
        terminalreporter.write_line(
            f"{row.fault:<{fault_w}} | {row.where:<{where_w}} | {row.outcome:<{outcome_w}} | "
            f"{row.counted:<{counted_w}} | {row.runs_expected:>3}/{row.runs_actual:<3} | {row.lost:>4} | "
            f"{row.duplicated:>10}"
        )
