"""The watcher's state belongs to one k6 API, and its cursor looks back a day.

A second session against another API on the same database (demo mode started twice: a new simulator on a
new port with the same run ids; a test double restarted behind the same address) must still notify; a run
that appears already finished with a ``created`` in the past must be notified once.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import BotSettings
from bot.notify import watcher as watcher_module
from bot.notify.notifier import Notifier
from bot.notify.outbox import make_slack_client
from bot.notify.subscriptions import Subscriptions
from bot.notify.watchlist import Watchlist
from bot.store import OutboxMessage, Store, WatchedRun
from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import DATABASES, finished_posts
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

CHANNEL = "C0LOADTEST"
SMOKE = 502  # demo: "Orders API Smoke"
NOW = datetime.now(UTC)


def demo(start: datetime) -> Simulator:
    """A fresh demo stack whose (frozen) clock starts at ``start``."""
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0, demo=True, start=start)


@pytest.fixture
def sessions(store: Store, slack: FakeSlack) -> Iterator[Callable[..., Any]]:
    """``async with session(url) as notifier``: one k6bot session (its own client and notifier) on the shared DB."""

    @asynccontextmanager
    async def session(url: str) -> AsyncIterator[Notifier]:
        bot = BotSettings(_env_file=None, poll_seconds=0.2)  # type: ignore[call-arg]
        async with K6CloudClient(make_settings(url), backoff_base=0.01, backoff_max=0.05) as client:
            notifier = Notifier(Toolbox(client), store, make_slack_client(slack.bot_token, slack.api_url), bot)
            try:
                yield notifier
            finally:
                await notifier.stop()
                http = getattr(notifier.slack_client, "session", None)
                if http is not None and not http.closed:
                    await http.close()

    yield session


async def cycle(notifier: Notifier, polls: int = 1) -> None:
    for _ in range(polls):
        await notifier.poll_once()
        await notifier.send_once()


async def notify_one_run(sim: Simulator, notifier: Notifier) -> int:
    """Baseline, then one run of the smoke test started and finished: returns its id."""
    await cycle(notifier)
    run_id = int(sim.start_run(SMOKE)["id"])
    await cycle(notifier)
    sim.finish_run(run_id, result="failed")
    await cycle(notifier, polls=2)
    return run_id


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_a_second_session_against_another_api_is_notified(
    store: Store, slack: FakeSlack, sessions: Callable[..., Any]
) -> None:
    """Demo mode twice on one database: a new simulator, a new URL, the same run ids, another clock."""
    await Subscriptions(store).subscribe(CHANNEL)
    first_api = demo(NOW + timedelta(days=2))  # its clock (and so the cursor it leaves) is ahead of the next one's
    with SimulatorServer(first_api) as url:
        async with sessions(url) as notifier:
            first = await notify_one_run(first_api, notifier)
    assert len(finished_posts(slack, first, CHANNEL)) == 1

    second_api = demo(NOW)
    with SimulatorServer(second_api) as url:
        async with sessions(url) as notifier:
            # At start, before the Slack app takes requests: the old API's state is gone.
            assert await notifier.watcher.adopt_scope() is True
            assert await notifier.watcher.cursor() is None
            async with store.session() as session:
                assert (await session.execute(select(func.count()).select_from(WatchedRun))).scalar() == 0
            second = await notify_one_run(second_api, notifier)
            await cycle(notifier, polls=2)

    assert second == first  # the same run id, another run
    posts = finished_posts(slack, second, CHANNEL)
    assert len(posts) == 2  # one per session: the second API's run was not taken for the first one's
    assert len(slack.successful("chat.postMessage")) == 2  # the new API's old runs stayed quiet (its baseline)


@pytest.mark.parametrize(
    "second_start",
    [
        pytest.param(NOW + timedelta(hours=1), id="same-ids-other-created"),
        pytest.param(NOW - timedelta(days=3), id="cursor-ahead-of-the-api"),
    ],
)
async def test_another_api_behind_the_same_address_is_noticed(
    store: Store, slack: FakeSlack, sessions: Callable[..., Any], second_start: datetime
) -> None:
    """A test double restarted on the same URL (same scope): its runs reuse ids, its clock is another one."""
    await Subscriptions(store).subscribe(CHANNEL)
    server = SimulatorServer(demo(NOW))
    url = server.start()
    try:
        async with sessions(url) as notifier:
            first = await notify_one_run(server.sim, notifier)
            server.sim = demo(second_start)  # the API restarted behind the same address
            second = await notify_one_run(server.sim, notifier)
    finally:
        server.stop()
    assert second == first
    assert len(finished_posts(slack, second, CHANNEL)) == 2


async def test_messages_not_yet_sent_survive_the_reset(
    store: Store, slack: FakeSlack, sessions: Callable[..., Any]
) -> None:
    """The reset forgets runs, not messages: one recorded but unsent when the session ended still goes out."""
    await Subscriptions(store).subscribe(CHANNEL)
    first_api = demo(NOW)
    with SimulatorServer(first_api) as url:
        async with sessions(url) as notifier:
            await cycle(notifier)
            first = int(first_api.start_run(SMOKE)["id"])
            await notifier.poll_once()
            first_api.finish_run(first)
            await notifier.poll_once()  # recorded in the outbox, not sent: the session ends first
    assert finished_posts(slack, first) == []

    second_api = demo(NOW + timedelta(minutes=1))
    with SimulatorServer(second_api) as url:
        async with sessions(url) as notifier:
            await notifier.send_once()
            assert len(finished_posts(slack, first, CHANNEL)) == 1  # the old API's message still went out
            second = await notify_one_run(second_api, notifier)
    assert second == first
    assert len(finished_posts(slack, second, CHANNEL)) == 2  # the new run's message has a key of its own
    async with store.session() as session:
        keys = list((await session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.state))).all())
    assert {state for _, state in keys} == {"sent"}
    assert sum(1 for key, _ in keys if key.startswith(f"finished:{first}:{CHANNEL}:top")) == 2


async def test_a_run_from_slack_recorded_after_start_is_kept(
    store: Store, slack: FakeSlack, sessions: Callable[..., Any]
) -> None:
    """Notifier.start() settles the scope before the Slack app takes requests: a run started from Slack
    right after start keeps its thread, whenever the first poll of the new session comes."""
    await Subscriptions(store).subscribe(CHANNEL)
    first_api = demo(NOW)
    with SimulatorServer(first_api) as url:
        async with sessions(url) as notifier:
            first = await notify_one_run(first_api, notifier)
    assert len(slack.successful("chat.postMessage")) == 1

    second_api = demo(NOW)
    with SimulatorServer(second_api) as url:
        async with sessions(url) as notifier:
            await notifier.start()  # the poll loop and the sender now run in the background
            run_id = int(second_api.start_run(SMOKE)["id"])
            await Watchlist(store).watch(
                run_id, load_test_id=SMOKE, origin="slack", channel_id="C0START", message_ts="1.5", starter_id="U0A"
            )
            second_api.finish_run(run_id)
            notifier.poll_soon()
            await asyncio.to_thread(slack.wait_for, "chat.postMessage", 3)  # the thread reply + the subscription
    assert run_id == first
    thread = [p for p in finished_posts(slack, run_id, "C0START") if p.args.get("thread_ts") == "1.5"]
    assert len(thread) == 1 and "<@U0A>" in thread[0].args["text"]


def _add_finished_run(url: str, test_id: int) -> dict[str, Any]:
    """``POST /_sim/load_tests/{id}/runs``: a run that is already finished, created in the past."""
    request = urllib.request.Request(
        f"{url}/_sim/load_tests/{test_id}/runs",
        data=json.dumps({"n": 1, "status": "completed", "result": "failed"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read())[0])


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_a_run_that_appears_already_finished_in_the_past_is_notified_once(
    frozen_sim: Simulator,
    frozen_sim_url: str,
    store: Store,
    slack: FakeSlack,
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    await Subscriptions(store).subscribe(CHANNEL)
    await cycle(notifier)  # the baseline: old finished runs stay quiet
    newest = max(datetime.fromisoformat(r["created"]) for r in frozen_sim.list_runs())
    await cycle(notifier)

    late = _add_finished_run(frozen_sim_url, SMOKE)
    created = datetime.fromisoformat(late["created"])
    assert created < newest - timedelta(minutes=30)  # well before the newest run: behind any short margin
    await cycle(notifier, polls=3)
    posts = finished_posts(slack, late["id"], CHANNEL)
    assert len(posts) == 1
    assert "failed" in posts[0].args["text"]
    assert len(slack.successful("chat.postMessage")) == 1  # and nothing else: the baseline stayed quiet
    cursor = await notifier.watcher.cursor()
    assert cursor is not None and cursor <= newest - watcher_module.LOOKBACK
