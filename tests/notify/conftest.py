"""Fixtures for the notifier tests: a frozen simulator, a fake Slack, a database (SQLite or PostgreSQL).

PostgreSQL tests run when ``K6BOT_TEST_POSTGRES_URL`` is set (``.ci/postgres.sh`` starts a local server and
prints it); each test gets its own fresh database. Without it they are skipped and ``-ra`` says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.config import BotSettings
from bot.notify.notifier import Notifier
from bot.notify.outbox import make_slack_client
from bot.store import Store, open_store
from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.slack import FakeSlack
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

# Read at import time: the autouse clean_environment fixture removes K6BOT_* variables before each test.
POSTGRES_URL = os.environ.get("K6BOT_TEST_POSTGRES_URL", "").strip() or None
SKIP_POSTGRES = "PostgreSQL tests need K6BOT_TEST_POSTGRES_URL (start one with: source .ci/postgres.sh)"

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


class ManualClock:
    """A clock the test moves by hand (for the 30-second progress limit, lease expiry)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def create_postgres_database() -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    import asyncpg

    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL)
    name = f"k6bot_t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    target = make_url(url)
    assert POSTGRES_URL is not None
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def postgres_url() -> str:
    if POSTGRES_URL is None:
        pytest.skip(SKIP_POSTGRES)
    return POSTGRES_URL


@pytest.fixture
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL: a SQLite file, or (``parametrize("db_url", DATABASES, indirect=True)``) PostgreSQL too."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}"
        return
    if POSTGRES_URL is None:
        pytest.skip(SKIP_POSTGRES)
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await open_store(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def frozen_sim() -> Simulator:
    """The demo stack with its clock stopped: runs move only when the test finishes them or advances time."""
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0, demo=True)


@pytest.fixture
def frozen_sim_url(frozen_sim: Simulator) -> Iterator[str]:
    with SimulatorServer(frozen_sim) as url:
        yield url


@pytest.fixture
async def sim_toolbox(frozen_sim_url: str) -> AsyncIterator[Toolbox]:
    async with K6CloudClient(make_settings(frozen_sim_url), backoff_base=0.01, backoff_max=0.05) as client:
        yield Toolbox(client)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def make_notifier(sim_toolbox: Toolbox, store: Store, slack: FakeSlack) -> AsyncIterator[Callable[..., Notifier]]:
    """Build notifiers on the shared simulator, database and fake Slack; stopped at the end of the test."""
    made: list[Notifier] = []

    def make(
        *,
        store_: Store | None = None,
        poll_seconds: float = 0.2,
        notify_channel: str | None = None,
        charts: bool = False,
        **options: Any,
    ) -> Notifier:
        """``charts``: the run chart in the thread (on in the product; tests/notify/test_insight.py covers it)."""
        bot = BotSettings(  # type: ignore[call-arg]
            _env_file=None, poll_seconds=poll_seconds, notify_channel=notify_channel, notify_charts=charts
        )
        options.setdefault("retry_base", 0.05)
        options.setdefault("retry_max", 0.5)
        notifier = Notifier(
            sim_toolbox,
            store_ or store,
            make_slack_client(slack.bot_token, slack.api_url),
            bot,
            **options,
        )
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        await notifier.stop()
        session = getattr(notifier.slack_client, "session", None)
        if session is not None and not session.closed:
            await session.close()


def finished_posts(slack: FakeSlack, run_id: int, channel: str | None = None) -> list[Any]:
    """Successful chat.postMessage calls about ``run_id`` (optionally in one channel)."""
    found = []
    for call in slack.successful("chat.postMessage"):
        blocks = call.args.get("blocks") or []
        about = any(b.get("block_id") == f"k6bot_run_finished:{run_id}" for b in blocks)
        about = about or f"Run {run_id} of" in str(call.args.get("text", ""))
        if about and (channel is None or call.args.get("channel") == channel):
            found.append(call)
    return found
