"""The watcher's logic, driven pass by pass (poll_once / send_once) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.notify import watcher as watcher_module
from bot.notify.notifier import Notifier
from bot.notify.subscriptions import Subscriptions
from bot.notify.watchlist import Watchlist
from bot.store import Store
from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import DATABASES, ManualClock, finished_posts
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer
from tools.simulator.faults import Fault

CHANNEL = "C0LOADTEST"
ORDERS_SOAK = 501  # demo: "Orders API Soak Test"
SMOKE = 502  # demo: "Orders API Smoke"


def assert_no_duplicates(slack: FakeSlack) -> None:
    """Every run-finished message arrived once per channel."""
    seen: dict[tuple[str, str], int] = {}
    for call in slack.successful("chat.postMessage"):
        for block in call.args.get("blocks") or []:
            if str(block.get("block_id", "")).startswith("k6bot_run_finished:"):
                key = (block["block_id"], call.args["channel"])
                seen[key] = seen.get(key, 0) + 1
    assert seen and all(count == 1 for count in seen.values()), seen


async def cycle(notifier: Notifier, polls: int = 1) -> None:
    """``polls`` watcher passes, each followed by an outbox pass."""
    for _ in range(polls):
        await notifier.poll_once()
        await notifier.send_once()


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_subscribed_channel_gets_exactly_one_message_per_finished_run(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    notifier.watcher.insight = False  # the verdict reads runs by id (tests/notify/test_insight.py); not counted here
    await Subscriptions(store).subscribe(CHANNEL)
    await cycle(notifier)  # first poll: the baseline, old finished runs stay quiet
    assert slack.successful("chat.postMessage") == []

    first = frozen_sim.start_run(ORDERS_SOAK)["id"]
    second = frozen_sim.start_run(SMOKE)["id"]
    await cycle(notifier)
    frozen_sim.clock.advance(90)  # both are running now, with traffic (metrics); demo run 1232 finishes
    await cycle(notifier)
    assert finished_posts(slack, first) == [] and finished_posts(slack, second) == []
    assert len(finished_posts(slack, 1232, CHANNEL)) == 1

    frozen_sim.finish_run(first, result="passed")
    await cycle(notifier, polls=4)
    posts = finished_posts(slack, first, CHANNEL)
    assert len(posts) == 1
    text = posts[0].text
    assert "Orders API Soak Test" in text and "passed" in text
    assert "p95 http_req_duration" in text  # figures from the v5 aggregate endpoint
    assert "k6bot_rerun" in text and "k6bot_save" in text
    assert "thread_ts" not in posts[0].args  # subscriptions get a top-level message

    frozen_sim.finish_run(second, result="failed")
    await cycle(notifier, polls=3)
    assert len(finished_posts(slack, second, CHANNEL)) == 1
    assert_no_duplicates(slack)
    # Only list requests find transitions: no per-run GETs for runs that are in the list walk.
    assert frozen_sim.count("GET", rf"/cloud/v6/test_runs/{first}") == 0


async def test_paging_follows_next_link(
    frozen_sim: Simulator,
    store: Store,
    slack: FakeSlack,
    make_notifier: Callable[..., Notifier],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many runs in the window: the walk reads every page ($skip) until no @nextLink is left."""
    notifier = make_notifier()
    await Subscriptions(store).subscribe(CHANNEL)
    await cycle(notifier)
    runs = [frozen_sim.start_run(SMOKE)["id"] for _ in range(7)]
    monkeypatch.setattr(watcher_module, "PAGE_SIZE", 3)
    for run_id in runs:
        frozen_sim.finish_run(run_id)
    frozen_sim.clear_requests()
    await cycle(notifier)
    assert frozen_sim.count("GET", r"/cloud/v6/test_runs") >= 3  # 7+ runs in pages of 3
    assert all(len(finished_posts(slack, r, CHANNEL)) == 1 for r in runs)


async def test_a_pager_that_never_ends_does_not_hang_the_watcher(
    store: Store, make_notifier: Callable[..., Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = make_notifier()
    await cycle(notifier)
    client = notifier.watcher.client
    real = client.get_page

    async def stuck(model, path, params=None):  # type: ignore[no-untyped-def]
        page = await real(model, path, {k: v for k, v in (params or {}).items() if k != "$skip"})
        page.next_link = "https://api.example/next"  # always "more", always the same runs
        return page

    monkeypatch.setattr(client, "get_page", stuck)
    report = await asyncio.wait_for(notifier.poll_once(), 10)
    assert report.listed >= 1


async def test_an_api_clock_days_behind_ours_still_gets_its_runs_noticed(
    store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A k6 API (or test double) whose clock is days behind: the cursor follows the API's clock, not ours."""
    behind = Simulator(
        token=TEST_TOKEN, stack_id=TEST_STACK, speed=0, demo=True, start=datetime.now(UTC) - timedelta(days=3)
    )
    with SimulatorServer(behind) as url:
        async with K6CloudClient(make_settings(url), backoff_base=0.01, backoff_max=0.05) as client:
            notifier = make_notifier()
            notifier.watcher.client = client
            notifier.watcher.toolbox = Toolbox(client)
            await Subscriptions(store).subscribe(CHANNEL)
            await cycle(notifier)
            run_id = behind.start_run(SMOKE)["id"]
            await cycle(notifier)
            behind.finish_run(run_id, result="failed")
            await cycle(notifier, polls=2)
            assert len(finished_posts(slack, run_id, CHANNEL)) == 1


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_failures_only_subscription(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    await Subscriptions(store).subscribe(CHANNEL, failures_only=True)
    await cycle(notifier)
    passed, failed, errored, aborted = (frozen_sim.start_run(SMOKE)["id"] for _ in range(4))
    await cycle(notifier)
    frozen_sim.finish_run(passed, result="passed")
    frozen_sim.finish_run(failed, result="failed")
    frozen_sim.finish_run(errored, status="aborted", reason="script_error")
    frozen_sim.abort_run(aborted, by_user="maria.garcia@example.com")
    await cycle(notifier, polls=2)
    assert finished_posts(slack, passed) == []
    assert len(finished_posts(slack, failed, CHANNEL)) == 1
    assert len(finished_posts(slack, errored, CHANNEL)) == 1
    by_user = finished_posts(slack, aborted, CHANNEL)
    assert len(by_user) == 1
    assert "aborted by maria.garcia@example.com" in by_user[0].text
    script = finished_posts(slack, errored)[0].text
    assert "Why:" in script and "script error" in script and "code 7" in script


async def test_test_subscription_and_unsubscribe(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    subs = Subscriptions(store)
    await subs.subscribe(CHANNEL, load_test_id=SMOKE, load_test_name="Orders API Smoke")
    await cycle(notifier)
    soak = frozen_sim.start_run(ORDERS_SOAK)["id"]
    smoke = frozen_sim.start_run(SMOKE)["id"]
    await cycle(notifier)
    frozen_sim.finish_run(soak)
    frozen_sim.finish_run(smoke)
    await cycle(notifier)
    assert finished_posts(slack, soak) == []
    assert len(finished_posts(slack, smoke, CHANNEL)) == 1

    assert await subs.unsubscribe(CHANNEL, load_test_id=SMOKE) == 1
    later = frozen_sim.start_run(SMOKE)["id"]
    await cycle(notifier)
    frozen_sim.finish_run(later)
    await cycle(notifier, polls=2)
    assert finished_posts(slack, later) == []


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_run_started_from_slack_is_answered_in_its_thread_with_a_mention(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    await cycle(notifier)
    run = frozen_sim.start_run(ORDERS_SOAK)
    await Watchlist(store).watch(
        run["id"],
        load_test_id=ORDERS_SOAK,
        load_test_name="Orders API Soak Test",
        origin="slack",
        channel_id="C0START",
        message_ts="1700000000.000200",
        starter_id="U0MARIA",
    )
    frozen_sim.finish_run(run["id"], status="aborted", reason="threshold")
    await cycle(notifier, polls=3)
    posts = finished_posts(slack, run["id"])
    assert len(posts) == 1
    post = posts[0]
    assert post.args["channel"] == "C0START"
    assert post.args["thread_ts"] == "1700000000.000200"
    assert "<@U0MARIA>" in post.args["text"]
    assert "reply_broadcast" not in post.args
    assert "aborted by threshold" in post.text and "code 8" in post.text
    # The start message itself says how it ended.
    updates = [c for c in slack.successful("chat.update") if c.args.get("ts") == "1700000000.000200"]
    assert len(updates) == 1 and "finished" in updates[0].args["text"]


async def test_thread_reply_is_broadcast_instead_of_a_second_message_in_a_subscribed_channel(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier(notify_channel="C0ALL")
    await Subscriptions(store).subscribe("C0START")
    await Subscriptions(store).subscribe("C0OTHER")
    await cycle(notifier)
    run_id = frozen_sim.start_run(SMOKE)["id"]
    await Watchlist(store).watch(
        run_id,
        load_test_id=SMOKE,
        origin="slack",
        channel_id="C0START",
        thread_ts="1700000000.000100",
        message_ts="1700000000.000300",
        starter_id="U0MARIA",
    )
    frozen_sim.finish_run(run_id)
    await cycle(notifier, polls=2)
    posts = finished_posts(slack, run_id)
    by_channel = {p.args["channel"]: p for p in posts}
    assert sorted(by_channel) == ["C0ALL", "C0OTHER", "C0START"]
    assert len(posts) == 3
    assert by_channel["C0START"].args["thread_ts"] == "1700000000.000100"
    assert by_channel["C0START"].args["reply_broadcast"] is True
    assert "thread_ts" not in by_channel["C0OTHER"].args
    assert "<@U0MARIA>" not in by_channel["C0OTHER"].args["text"]


async def test_notify_channel_gets_every_run(
    frozen_sim: Simulator, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier(notify_channel="C0EVERYTHING")
    await cycle(notifier)
    runs = [frozen_sim.start_run(test)["id"] for test in (501, 503, 505)]
    await cycle(notifier)
    for run_id in runs:
        frozen_sim.finish_run(run_id)
    await cycle(notifier, polls=2)
    assert all(len(finished_posts(slack, r, "C0EVERYTHING")) == 1 for r in runs)


async def test_first_poll_is_a_baseline_but_runs_finished_between_polls_are_notified(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    await Subscriptions(store).subscribe(CHANNEL)
    report = await notifier.poll_once()
    assert report.listed > 5  # the demo's runs of the last 24 h
    assert report.notified == []
    # A run that starts and finishes between two polls (k6bot was down, or the poll interval is long).
    quick = frozen_sim.start_run(SMOKE)["id"]
    frozen_sim.finish_run(quick, result="failed")
    await cycle(notifier)
    assert len(finished_posts(slack, quick, CHANNEL)) == 1


async def test_metrics_failure_does_not_block_the_notification(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    await Subscriptions(store).subscribe(CHANNEL)
    await cycle(notifier)
    run_id = frozen_sim.start_run(SMOKE)["id"]
    await cycle(notifier)
    frozen_sim.faults.add(Fault(path=r"/cloud/v5/.*", status=500, times=None))
    frozen_sim.finish_run(run_id)
    await cycle(notifier)
    posts = finished_posts(slack, run_id, CHANNEL)
    assert len(posts) == 1
    assert "Metrics were not available" in posts[0].text
    assert "p95 http_req_duration" not in posts[0].text


async def test_progress_updates_the_start_message_at_most_every_30_seconds(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    clock = ManualClock()
    notifier = make_notifier(clock=clock)
    await cycle(notifier)
    run_id = frozen_sim.start_run(ORDERS_SOAK)["id"]
    await Watchlist(store).watch(
        run_id, load_test_id=ORDERS_SOAK, origin="slack", channel_id="C0START", message_ts="1700000000.000500"
    )
    frozen_sim.clock.advance(60)  # created → queued → initializing → running
    await cycle(notifier)
    updates = slack.successful("chat.update")
    assert len(updates) == 1
    assert updates[0].args["ts"] == "1700000000.000500"
    assert "running" in updates[0].args["text"]
    frozen_sim.clock.advance(20)
    clock.advance(10)
    await cycle(notifier, polls=3)
    assert len(slack.successful("chat.update")) == 1  # not again within 30 s
    clock.advance(25)
    await cycle(notifier)
    updates = slack.successful("chat.update")
    assert len(updates) == 2
    assert "of ~" in updates[1].args["text"]  # elapsed of the expected duration


async def test_progress_update_failures_are_dropped_not_retried_forever(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier()
    await cycle(notifier)
    run_id = frozen_sim.start_run(ORDERS_SOAK)["id"]
    await Watchlist(store).watch(
        run_id, load_test_id=ORDERS_SOAK, origin="slack", channel_id="C0START", message_ts="1.2"
    )
    frozen_sim.clock.advance(60)
    slack.fail("chat.update", times=1, status=200, error="message_not_found")
    await cycle(notifier)
    rows = await notifier.outbox.messages()
    progress = [r for r in rows if r.dedupe_key.startswith("progress:")]
    assert [r.state for r in progress] == ["failed"]
    assert json.dumps(progress[0].last_error) == '"message_not_found"'
