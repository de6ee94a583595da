"""Run / stop operations from Slack: preview, Confirm / Cancel, only the requester, once, expiry, retries."""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import select

from bot.store import Confirmation, WatchedRun
from tests.slack.conftest import ABORT_PATH, ALICE, BOB, CHANNEL, START_PATH, Harness, buttons, confirmation_id
from tools.simulator import Fault


async def test_a_start_is_acknowledged_in_time_even_when_the_api_takes_5_seconds(harness: Harness) -> None:
    harness.sim.faults.add(Fault(path=r"/cloud/v6/.*", kind="latency", delay=5, times=1))
    began = time.monotonic()
    response = await harness.command("start orders soak test")
    assert response.status_code == 200
    assert time.monotonic() - began < 3.0
    # the preview follows through the response_url once the API answered
    calls = await harness.responses(1)
    assert confirmation_id(calls[0])
    assert harness.sim.count("POST", START_PATH) == 0


async def test_the_preview_says_what_will_happen_and_what_helps_decide(harness: Harness) -> None:
    _, call = await harness.preview("start orders soak test")
    text = call.text
    assert "Start load test 'Orders API Soak Test' (id 501" in text
    assert "Last run #" in text and "VUH" in text  # last run's result, duration and cost
    assert call.args["response_type"] == "ephemeral"
    labels = [b["text"]["text"] for b in buttons(call)]
    assert labels == ["Confirm", "Cancel"]
    assert "confirm" not in buttons(call)[0]  # a start is not destructive: no extra dialog
    assert f"<@{ALICE}>" in text  # only the requester can confirm


async def test_confirm_starts_exactly_once_and_tells_the_channel(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    response = await harness.click("k6bot_confirm", cid)
    assert response.status_code == 200
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 1
    start = next(r for r in harness.sim.requests if r.method == "POST" and r.path.endswith("/start"))
    assert start.path == "/cloud/v6/load_tests/501/start"
    assert start.headers.get("k6-idempotency-key") == cid  # the start's idempotency key is the confirmation
    announcement = posts[0]
    assert announcement.args["channel"] == CHANNEL
    assert f"<@{ALICE}> started *Orders API Soak Test*" in announcement.text
    assert "/runs/" in announcement.text and "|run " in announcement.text  # the link to the run
    # the preview was replaced: no buttons left
    replaced = [c for c in harness.fake.calls_of("response_url") if c.args.get("replace_original") is True]
    assert replaced and all(not buttons(c) for c in replaced)
    assert "Started 'Orders API Soak Test'" in replaced[-1].text
    # the watcher is asked to follow the run in that message's thread
    async with harness.store.session() as session:
        watched = (await session.execute(select(WatchedRun))).scalars().all()
    assert len(watched) == 1
    row = watched[0]
    assert (row.load_test_id, row.origin, row.channel_id, row.starter_id) == (501, "slack", CHANNEL, ALICE)
    assert row.message_ts == announcement_ts(harness)  # the watcher updates it and answers in its thread
    assert row.thread_ts is None  # the announcement itself is not in a thread


def announcement_ts(harness: Harness) -> str:
    # the fake answers chat.postMessage with increasing ts values; the only post is the announcement
    return harness.extra.setdefault("ts", _first_ts(harness))


def _first_ts(harness: Harness) -> str:
    value = harness.fake._ts  # the fake's counter after its one chat.postMessage
    return f"{value // 1_000_000}.{value % 1_000_000:06d}"


async def test_cancel_starts_nothing_and_removes_the_buttons(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    await harness.click("k6bot_cancel", cid)
    calls = await harness.responses(2)
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 0
    assert calls[1].args["replace_original"] is True
    assert not buttons(calls[1])
    assert "Cancelled" in calls[1].text
    assert harness.fake.calls_of("chat.postMessage") == []
    # confirming after a cancel does nothing either
    await harness.click("k6bot_confirm", cid)
    await harness.responses(3)
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 0


async def test_another_users_click_is_refused_politely_and_changes_nothing(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    await harness.click("k6bot_confirm", cid, user=BOB)
    calls = await harness.responses(2)
    await harness.settle()
    refusal = calls[1]
    assert refusal.args["response_type"] == "ephemeral"
    assert refusal.args["replace_original"] is False  # the requester's message is untouched
    assert "Only" in refusal.text and "who asked" in refusal.text
    assert harness.sim.count("POST", START_PATH) == 0
    await harness.click("k6bot_cancel", cid, user=BOB)
    await harness.responses(3)
    await harness.settle()
    # the requester can still decide
    await harness.click("k6bot_confirm", cid)
    await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 1


async def test_an_expired_confirmation_does_nothing_and_says_so(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    harness.clock.advance(601)  # confirmations last 10 minutes
    await harness.click("k6bot_confirm", cid)
    calls = await harness.responses(2)
    await harness.settle()
    assert "expired" in calls[1].text
    assert calls[1].args["replace_original"] is True and not buttons(calls[1])
    assert harness.sim.count("POST", START_PATH) == 0
    async with harness.store.session() as session:
        assert (await session.get(Confirmation, cid)).state == "expired"


async def test_a_short_ttl_from_the_settings_applies(make_harness) -> None:
    harness = await make_harness(confirm_ttl_seconds=30)
    cid, call = await harness.preview("start orders soak test")
    assert "expires in 30s" in call.text
    harness.clock.advance(31)
    await harness.click("k6bot_confirm", cid)
    await harness.responses(2)
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 0


async def test_a_double_click_starts_once(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    first, second = await asyncio.gather(
        harness.click("k6bot_confirm", cid, action_ts="1700000001.000001"),
        harness.click("k6bot_confirm", cid, action_ts="1700000001.000002"),
    )
    assert first.status_code == second.status_code == 200
    await harness.wait("chat.postMessage")
    await harness.settle()
    third = await harness.click("k6bot_confirm", cid, action_ts="1700000001.000003")
    assert third.status_code == 200
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 1
    assert len(harness.fake.calls_of("chat.postMessage")) == 1
    already = [c for c in harness.fake.calls_of("response_url") if "Already" in c.text]
    assert already and all(c.args["replace_original"] is False for c in already)


async def test_a_slack_retry_of_a_click_does_nothing_twice(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    body = harness.click_body("k6bot_confirm", cid, action_ts="1700000002.000001")
    assert (await harness.post(body)).status_code == 200
    assert (await harness.post(body, retry=1)).status_code == 200
    assert (await harness.post(body, retry=2)).status_code == 200
    await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 1
    assert len(harness.fake.calls_of("chat.postMessage")) == 1


async def test_a_slack_retry_of_a_slash_command_posts_one_preview(harness: Harness) -> None:
    body = harness.command_body("start orders soak test")
    assert (await harness.post(body)).status_code == 200
    assert (await harness.post(body, retry=1)).status_code == 200
    await harness.responses(1)
    await harness.settle()
    assert len(harness.fake.calls_of("response_url")) == 1
    async with harness.store.session() as session:
        assert len((await session.execute(select(Confirmation))).scalars().all()) == 1


async def test_a_retry_whose_first_attempt_never_arrived_is_handled(harness: Harness) -> None:
    response = await harness.post(harness.command_body("list tests"), retry=1)
    assert response.status_code == 200
    calls = await harness.responses(1)
    assert "Orders API Soak Test" in calls[0].text


async def test_abort_has_a_confirm_dialog_and_aborts_once(harness: Harness) -> None:
    cid, call = await harness.preview("abort run 1234")
    confirm = buttons(call)[0]
    assert confirm["style"] == "danger"
    assert set(confirm["confirm"]) >= {"title", "text", "confirm", "deny"}
    assert "Abort test run 1234" in call.text
    await harness.click("k6bot_confirm", cid)
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", ABORT_PATH) == 1
    assert f"<@{ALICE}> aborted" in posts[0].text and "run 1234" in posts[0].text


async def test_an_abort_that_is_no_longer_possible_says_why(harness: Harness) -> None:
    cid, _ = await harness.preview("abort run 1234")
    harness.sim.abort_run(1234, by_user="someone@example.com")
    await harness.click("k6bot_confirm", cid)
    calls = await harness.responses(3)
    await harness.settle()
    assert "not running" in calls[-1].text
    assert harness.fake.calls_of("chat.postMessage") == []


async def test_buttons_carry_only_the_confirmation_id(harness: Harness) -> None:
    cid, call = await harness.preview("start orders soak test")
    assert {b["value"] for b in buttons(call)} == {cid}
    assert len(cid) <= 36
    json.dumps(call.args)  # serialisable as sent
