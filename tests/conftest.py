"""Fixtures shared by every test: a clean environment, the simulator over real HTTP, a client, a toolbox."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

TEST_TOKEN = "test-token-5e3cr3t-value"
TEST_STACK = 1000

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
