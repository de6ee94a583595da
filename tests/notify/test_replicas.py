"""Several replicas on one database: one watcher polls at a time, and no message is sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.notify.notifier import Notifier
from bot.notify.subscriptions import Subscriptions
from bot.store import Store, open_store
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import DATABASES, finished_posts
from tests.notify.test_outbox import wait_until
from tools.simulator import Simulator

CHANNEL = "C0LOADTEST"


@pytest.fixture
async def second_store(db_url: str):
    s = await open_store(db_url)  # its own engine and connections, like another process
    try:
        yield s
    finally:
        await s.close()


async def polls_of(notifier: Notifier, count: int) -> None:
    """Wait for ``count`` more polls of ``notifier``'s watcher."""
    for _ in range(count):
        before = notifier.watcher.last_poll_at
        await wait_until(lambda before=before: notifier.watcher.last_poll_at != before)


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_two_replicas_send_nothing_twice(
    frozen_sim: Simulator,
    store: Store,
    second_store: Store,
    slack: FakeSlack,
    make_notifier: Callable[..., Notifier],
) -> None:
    one = make_notifier(poll_seconds=0.2, lease_seconds=2)
    two = make_notifier(store_=second_store, poll_seconds=0.2, lease_seconds=2)
    await Subscriptions(store).subscribe(CHANNEL)
    await one.start()
    await two.start()
    await wait_until(lambda: one.watcher.last_poll_at is not None or two.watcher.last_poll_at is not None)
    assert [one.lease.held, two.lease.held].count(True) == 1
    leader, standby = (one, two) if one.lease.held else (two, one)

    runs = [frozen_sim.start_run(test)["id"] for test in (501, 502, 503, 504)]
    await polls_of(leader, 1)
    slack.fail("chat.postMessage", times=2, status=500)
    for run_id in runs[:2]:
        frozen_sim.finish_run(run_id)
    await asyncio.to_thread(slack.wait_for, "chat.postMessage", 2, timeout=15)

    # The leader dies without letting go; the standby takes over when the lease lapses.
    await leader.stop(release=False)
    for run_id in runs[2:]:
        frozen_sim.finish_run(run_id, result="failed")
    await asyncio.to_thread(slack.wait_for, "chat.postMessage", 4, timeout=15)
    assert standby.lease.held
    await polls_of(standby, 3)
    await standby.stop()
    for run_id in runs:
        assert len(finished_posts(slack, run_id, CHANNEL)) == 1, run_id
    assert len(slack.successful("chat.postMessage")) == 4


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_racing_pollers_and_senders_still_send_once(
    frozen_sim: Simulator,
    store: Store,
    second_store: Store,
    slack: FakeSlack,
    make_notifier: Callable[..., Notifier],
) -> None:
    """Even without the lease (two pollers at the same moment), conditional updates and keys keep it once."""
    replicas = [make_notifier(), make_notifier(store_=second_store), make_notifier(store_=second_store)]
    await Subscriptions(store).subscribe(CHANNEL)
    await Subscriptions(store).subscribe("C0FAILS", failures_only=True)
    await asyncio.gather(*(r.poll_once() for r in replicas))
    runs = [frozen_sim.start_run(502)["id"] for _ in range(6)]
    await asyncio.gather(*(r.poll_once() for r in replicas))
    for index, run_id in enumerate(runs):
        frozen_sim.finish_run(run_id, result="failed" if index % 2 else "passed")
    for _ in range(3):
        await asyncio.gather(*(r.poll_once() for r in replicas), *(r.send_once() for r in replicas))
    await asyncio.gather(*(r.send_once() for r in replicas))
    for index, run_id in enumerate(runs):
        assert len(finished_posts(slack, run_id, CHANNEL)) == 1
        assert len(finished_posts(slack, run_id, "C0FAILS")) == (1 if index % 2 else 0)
    assert len(slack.successful("chat.postMessage")) == 6 + 3
