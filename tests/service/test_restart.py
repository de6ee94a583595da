"""`kill -9` of `k6bot serve` while runs finish: after the restart each is notified, and none twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.notify.subscriptions import Subscriptions
from bot.store import OutboxMessage, WatchedRun, open_store
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import (
    POSTGRES_URL,
    SKIP_POSTGRES,
    create_postgres_database,
    drop_postgres_database,
    finished_posts,
)
from tests.service.conftest import ServeProcess
from tools.simulator import Simulator

CHANNEL = "C0LOADTEST"


def db_url(env: dict[str, str]) -> str:
    value = env["K6BOT_DATABASE_URL"]
    return value if "://" in value else f"sqlite+aiosqlite:///{value}"


def query(env: dict[str, str], statement):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        store = await open_store(db_url(env))
        try:
            async with store.session() as session:
                return list((await session.execute(statement)).scalars())
        finally:
            await store.close()

    return asyncio.run(run())


def subscribe(env: dict[str, str], channel: str) -> None:
    async def run() -> None:
        store = await open_store(db_url(env))
        try:
            await Subscriptions(store).subscribe(channel)
        finally:
            await store.close()

    asyncio.run(run())


def seen(env: dict[str, str], run_id: int) -> bool:
    return bool(query(env, select(WatchedRun.run_id).where(WatchedRun.run_id == run_id)))


def test_kill_9_and_restart_notifies_runs_that_finished_meanwhile_exactly_once(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[[dict[str, str]], ServeProcess],
    tmp_path: Path,
) -> None:
    subscribe(serve_env, CHANNEL)
    first = run_serve(serve_env)
    first.wait_healthy()
    first.wait_polls(1)  # the baseline poll is behind us
    going = frozen_sim.start_run(502)["id"]
    first.wait_until(lambda: seen(serve_env, going), what=f"run {going} seen")

    first.kill9()
    frozen_sim.finish_run(going, result="failed")  # finishes while k6bot is down …
    quick = frozen_sim.start_run(503)["id"]  # … and this one starts and ends while it is down
    frozen_sim.finish_run(quick)

    second = run_serve(serve_env)
    second.wait_healthy()
    slack.wait_for("chat.postMessage", 2, timeout=20)
    second.wait_polls(3)  # several polls after the notifications: still one each
    assert len(finished_posts(slack, going, CHANNEL)) == 1
    assert len(finished_posts(slack, quick, CHANNEL)) == 1
    assert "failed" in finished_posts(slack, going)[0].text
    assert len(slack.successful("chat.postMessage")) == 2


def test_a_message_recorded_but_not_yet_sent_at_kill_9_goes_out_once_after_restart(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[[dict[str, str]], ServeProcess],
) -> None:
    subscribe(serve_env, CHANNEL)
    first = run_serve(serve_env)
    first.wait_healthy()
    first.wait_polls(1)
    run_id = frozen_sim.start_run(502)["id"]
    first.wait_until(lambda: seen(serve_env, run_id), what=f"run {run_id} seen")
    slack.fail("chat.postMessage", times=2, status=500)  # Slack is down when the run ends
    frozen_sim.finish_run(run_id)

    def attempted() -> bool:
        rows = query(serve_env, select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"finished:{run_id}:%")))
        return bool(rows) and rows[0].attempts >= 1

    first.wait_until(attempted, what="a failed delivery attempt")
    first.kill9()  # the message is in the outbox, not in Slack

    second = run_serve(serve_env)
    second.wait_healthy()
    slack.wait_for("chat.postMessage", 1, timeout=20)
    second.wait_polls(3)
    assert len(finished_posts(slack, run_id, CHANNEL)) == 1
    assert [c.status for c in slack.calls_of("chat.postMessage")] == [500, 500, 200]
    rows = query(serve_env, select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"finished:{run_id}:%")))
    assert [(r.state, r.attempts) for r in rows] == [("sent", 3)]


@pytest.mark.postgres
def test_two_serve_processes_on_postgres_poll_one_at_a_time_and_send_nothing_twice(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[[dict[str, str]], ServeProcess],
) -> None:
    if POSTGRES_URL is None:
        pytest.skip(SKIP_POSTGRES)
    url = asyncio.run(create_postgres_database())
    replicas: list[ServeProcess] = []
    try:
        env = {**serve_env, "K6BOT_DATABASE_URL": url}
        subscribe(env, CHANNEL)
        replicas += [run_serve(env), run_serve(env)]
        for replica in replicas:
            replica.wait_healthy()
        replicas[0].wait_until(
            lambda: sum(bool(r.health()["watcher"]["lease_held"]) for r in replicas) == 1, what="one lease holder"
        )
        leader = next(r for r in replicas if r.health()["watcher"]["lease_held"])
        standby = next(r for r in replicas if r is not leader)
        leader.wait_polls(1)
        runs = [frozen_sim.start_run(test)["id"] for test in (501, 502, 503, 504)]
        leader.wait_until(lambda: all(seen(env, r) for r in runs), what="runs seen")
        for run_id in runs[:2]:
            frozen_sim.finish_run(run_id)
        slack.wait_for("chat.postMessage", 2, timeout=20)
        assert standby.health()["watcher"]["last_poll_at"] is None  # the standby never polled

        leader.kill9()  # the standby takes over once the lease lapses (~10 s)
        for run_id in runs[2:]:
            frozen_sim.finish_run(run_id, result="failed")
        slack.wait_for("chat.postMessage", 4, timeout=30)
        standby.wait_polls(3)
        for run_id in runs:
            assert len(finished_posts(slack, run_id, CHANNEL)) == 1, run_id
        assert len(slack.successful("chat.postMessage")) == 4
    finally:
        for replica in replicas:
            replica.stop()
        asyncio.run(drop_postgres_database(url))
