"""The outbox: recorded before sending, retried on Slack 5xx / 429, never twice, permanent errors give up."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.notify.notifier import Notifier
from bot.notify.outbox import Outbox, OutboxSender, make_slack_client
from bot.notify.subscriptions import Subscriptions
from bot.store import Store
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import DATABASES, finished_posts
from tools.simulator import Simulator

CHANNEL = "C0LOADTEST"


async def enqueue(store: Store, key: str, channel: str = CHANNEL, **payload: object) -> None:
    outbox = Outbox(store)
    async with store.session() as session:
        await outbox.enqueue(session, key, {"channel": channel, "text": f"hello {key}", **payload})


async def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for a condition that a background task makes true (checked on every loop turn, no fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_slack_500s_then_recovery_delivers_exactly_one_message(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, make_notifier: Callable[..., Notifier]
) -> None:
    notifier = make_notifier(poll_seconds=0.2)
    await Subscriptions(store).subscribe(CHANNEL)
    await notifier.start()
    await wait_until(lambda: notifier.watcher.last_poll_at is not None)  # baseline poll done
    run_id = frozen_sim.start_run(502)["id"]
    slack.fail("chat.postMessage", times=2, status=500)
    frozen_sim.finish_run(run_id, result="failed")
    await asyncio.to_thread(slack.wait_for, "chat.postMessage", 1, timeout=15)
    polls_then = notifier.watcher.last_poll_at
    await wait_until(lambda: notifier.watcher.last_poll_at != polls_then)  # more polls after delivery …
    polls_then = notifier.watcher.last_poll_at
    await wait_until(lambda: notifier.watcher.last_poll_at != polls_then)
    await notifier.stop()
    calls = slack.calls_of("chat.postMessage")
    assert [c.status for c in calls] == [500, 500, 200]
    assert len(finished_posts(slack, run_id, CHANNEL)) == 1
    rows = await notifier.outbox.messages()
    assert [(r.state, r.attempts) for r in rows] == [("sent", 3)]
    assert rows[0].slack_ts  # Slack's ts of the delivered message


async def test_slack_429_honours_retry_after(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:1:C0LOADTEST:top")
    slack.fail("chat.postMessage", times=1, status=429, retry_after=1)
    sender = OutboxSender(Outbox(store), make_slack_client(slack.bot_token, slack.api_url), holder="t", retry_base=0.01)
    assert await sender.send_due() == 0
    assert await sender.send_due() == 0  # paused until Retry-After has passed; Slack is not asked again
    assert len(slack.calls_of("chat.postMessage")) == 1
    rows = await sender.outbox.messages()
    assert rows[0].last_error == "ratelimited"
    wait = (rows[0].next_attempt_at - rows[0].created_at).total_seconds()
    assert 0.9 <= wait <= 2.0
    await wait_until_due(sender)
    assert await sender.send_due() == 1
    calls = slack.calls_of("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.95


async def test_slack_429_with_an_http_date_retry_after(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:4:C0LOADTEST:top")
    when = datetime.now(UTC) + timedelta(seconds=5)
    slack.fail("chat.postMessage", times=1, status=429, retry_after=email.utils.format_datetime(when, usegmt=True))
    sender = OutboxSender(Outbox(store), make_slack_client(slack.bot_token, slack.api_url), holder="t")
    assert await sender.send_due() == 0
    rows = await sender.outbox.messages()
    wait = (rows[0].next_attempt_at - rows[0].created_at).total_seconds()
    assert rows[0].last_error == "ratelimited" and 3.0 <= wait <= 6.0  # a date has a resolution of one second
    assert sender.paused_until is not None  # the whole sender waits, not only this row
    assert abs((sender.paused_until - rows[0].next_attempt_at).total_seconds()) < 1


async def wait_until_due(sender: OutboxSender) -> None:
    due = await sender.outbox.next_due_at()
    assert due is not None
    delay = (due - sender.clock()).total_seconds()
    if sender.paused_until is not None:
        delay = max(delay, (sender.paused_until - sender.clock()).total_seconds())
    await asyncio.sleep(max(0.0, delay) + 0.01)  # the time Slack asked us to wait, not a synchronisation guess


async def test_permanent_slack_errors_are_not_retried(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:1:C0GONE:top", channel="C0GONE")
    slack.fail("chat.postMessage", times=1, status=200, error="channel_not_found")
    sender = OutboxSender(Outbox(store), make_slack_client(slack.bot_token, slack.api_url), holder="t", retry_base=0.01)
    await sender.send_due()
    await sender.send_due()
    rows = await sender.outbox.messages()
    assert [(r.state, r.last_error) for r in rows] == [("failed", "channel_not_found")]
    assert len(slack.calls_of("chat.postMessage")) == 1


async def test_wrong_token_is_a_permanent_error(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:2:C0LOADTEST:top")
    sender = OutboxSender(Outbox(store), make_slack_client("xoxb-wrong", slack.api_url), holder="t")
    await sender.send_due()
    rows = await sender.outbox.messages()
    assert [(r.state, r.last_error) for r in rows] == [("failed", "invalid_auth")]


async def test_invalid_blocks_fall_back_to_text(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:3:C0LOADTEST:top", blocks=[{"type": "nonsense"}])
    slack.fail("chat.postMessage", times=1, status=200, error="invalid_blocks")
    sender = OutboxSender(Outbox(store), make_slack_client(slack.bot_token, slack.api_url), holder="t")
    assert await sender.send_due() == 1
    calls = slack.calls_of("chat.postMessage")
    assert "blocks" in calls[0].args and "blocks" not in calls[1].args


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_the_same_key_is_recorded_once_and_claimed_by_one_sender(store: Store, slack: FakeSlack) -> None:
    for _ in range(3):
        await enqueue(store, "finished:9:C0LOADTEST:top")
    outbox = Outbox(store)
    assert len(await outbox.messages()) == 1
    row = (await outbox.messages())[0]
    claims = await asyncio.gather(*(outbox.claim(row.id, f"sender-{i}", 60) for i in range(8)))
    assert sum(claims) == 1
    senders = [
        OutboxSender(outbox, make_slack_client(slack.bot_token, slack.api_url), holder=f"s{i}") for i in range(4)
    ]
    await enqueue(store, "finished:10:C0LOADTEST:top")
    await asyncio.gather(*(s.send_due() for s in senders))
    assert len(slack.successful("chat.postMessage")) == 1  # the claimed row 9 waits for its claim to lapse


async def test_network_errors_back_off_and_recover(store: Store, slack: FakeSlack) -> None:
    await enqueue(store, "finished:11:C0LOADTEST:top")
    dead = make_slack_client(slack.bot_token, "http://127.0.0.1:9/api/")  # nothing listens on port 9
    sender = OutboxSender(Outbox(store), dead, holder="t", retry_base=0.05, retry_max=0.1)
    await sender.send_due()
    rows = await sender.outbox.messages()
    assert rows[0].state == "pending" and rows[0].last_error.startswith("network")
    sender.slack = make_slack_client(slack.bot_token, slack.api_url)
    await wait_until_due(sender)
    assert await sender.send_due() == 1
