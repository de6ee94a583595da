"""Fixtures shared by every test: a clean environment, the simulator over real HTTP, a client, a toolbox.

And a guard on every test: the suite runs with recognisable secret values (:data:`TEST_SECRETS`, plus every
secret the settings built in a test hold), and a test fails when one of them shows up in what k6bot
writes — captured stdout / stderr, log records, the fake Slack's recorded calls, audit rows, the logs of
the processes the tests start.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.logs import install_record_scrubbing
from bot.scrub import known_secrets
from bot.store import AuditEntry
from tests.fakes.slack import FakeSlack
from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

TEST_TOKEN = "test-token-5e3cr3t-value"
TEST_STACK = 1000
SLACK_SIGNING_SECRET = "test-signing-secret-0123456789"
SLACK_BOT_TOKEN = "xoxb-test-token"
WEBHOOK_SECRET = "hook-s3cret-value"
MCP_TOKEN = "mcp-bearer-7f3a-test-value"
E2E_SIGNING_SECRET = "e2e-signing-secret-0123456789"
TEST_SECRETS = (TEST_TOKEN, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, WEBHOOK_SECRET, MCP_TOKEN, E2E_SIGNING_SECRET)
"""The secrets the suite configures k6bot with; none of them may appear in anything k6bot writes."""

_PREFIXES = ("K6_CLOUD_", "K6BOT_", "SLACK_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's k6 Cloud, Slack or k6bot settings, or writes to their state dir."""
    for key in list(os.environ):
        if key.startswith(_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # no stray .env is read


@pytest.fixture
def sim() -> Simulator:
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=1.0, demo=True)


@pytest.fixture
def sim_url(sim: Simulator) -> Iterator[str]:
    with SimulatorServer(sim) as url:
        yield url


def make_settings(url: str, **overrides: object) -> K6CloudSettings:
    values: dict[str, object] = {
        "token": TEST_TOKEN,
        "stack_id": TEST_STACK,
        "api_url": url,
        "max_retries": 3,
        "timeout": 10,
    }
    values.update(overrides)
    return K6CloudSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def client(sim_url: str) -> AsyncIterator[K6CloudClient]:
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01, backoff_max=0.05) as c:
        yield c


@pytest.fixture
async def toolbox(client: K6CloudClient) -> Toolbox:
    return Toolbox(client)


# --------------------------------------------------------------------------- no secret in any output


def secrets_in(texts: Iterable[str | None]) -> list[str]:
    """Which known secrets (the suite's, and every one k6bot was configured with) appear in ``texts``."""
    secrets = set(TEST_SECRETS) | known_secrets()
    return sorted({secret for text in texts if text for secret in secrets if secret in text})


def assert_no_secrets(*texts: str | None, where: str = "output") -> None:
    found = secrets_in(texts)
    assert not found, f"secret(s) {found} leaked into {where}"


_audit_leaks: list[str] = []


@event.listens_for(AuditEntry, "before_insert")
def _check_audit_row(_mapper: Any, _connection: Any, row: AuditEntry) -> None:
    text = json.dumps([row.actor_name, row.target, row.arguments, row.result, row.detail], default=str)
    _audit_leaks.extend(f"audit row {row.operation}/{row.decision}: {s}" for s in secrets_in([text]))


class _LogLeaks(logging.Handler):
    """Sees every record k6bot's processes would log at INFO, as a handler of the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += record.exc_text or logging.Formatter().formatException(record.exc_info)
        self.found.extend(f"log record of {record.name}: {s}" for s in secrets_in([text]))


class LeakGuard:
    """Collects known secrets that reach a log record, an audit row or a fake Slack while it is active."""

    def __init__(self) -> None:
        self.log = _LogLeaks()
        self._level = logging.NOTSET

    def __enter__(self) -> LeakGuard:
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self.log)
        if self._level == logging.NOTSET or self._level > logging.INFO:
            root.setLevel(logging.INFO)
        _audit_leaks.clear()
        FakeSlack.started.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.log)
        root.setLevel(self._level)

    def found(self) -> list[str]:
        found = self.log.found + list(_audit_leaks)
        for fake in FakeSlack.started:
            for call in list(fake.calls):
                found += [f"fake Slack {call.method}: {s}" for s in secrets_in([json.dumps(call.args, default=str)])]
        return found


def pytest_configure(config: pytest.Config) -> None:
    install_record_scrubbing()  # as `k6bot …` does when it configures logging
    config.addinivalue_line("markers", "leaks_expected: the test checks the leak guard itself (it asserts on it)")


@pytest.fixture(autouse=True)
def no_secret_leaks(request: pytest.FixtureRequest) -> Iterator[LeakGuard]:
    """Fails the test when a known secret reached a log record, the fake Slack or an audit row."""
    with LeakGuard() as guard:
        yield guard
    if request.node.get_closest_marker("leaks_expected") is None:
        found = guard.found()
        assert not found, "secrets leaked:\n" + "\n".join(found)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test whose captured stdout or stderr shows a known secret fails, whatever it asserted."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.passed and item.get_closest_marker("leaks_expected") is None:
        own = [text for name, text in report.sections if name.endswith(f" {report.when}") and "Captured std" in name]
        found = secrets_in(own)
        if found:
            report.outcome = "failed"
            report.longrepr = f"secret(s) {found} leaked into the captured stdout/stderr of {report.when}"
