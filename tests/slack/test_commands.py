"""Every grammar form through Slack, end to end: what reaches the k6 API and what the requester reads."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.store import Subscription
from tests.slack.conftest import ALICE, BOB, CHANNEL, SIGNING_SECRET, START_PATH, Harness, buttons, sign
from tools.simulator import Fault

READS = [
    # text, an API request it must make (method, path regex), a piece of the answer
    ("list tests", ("GET", r"/cloud/v6/load_tests"), "Orders API Soak Test"),
    ("list tests in payments", ("GET", r"/cloud/v6/projects/78/load_tests"), "Checkout Spike"),
    ("list runs", ("GET", r"/cloud/v6/test_runs"), "#1234"),
    ("runs of orders soak test", ("GET", r"/cloud/v6/load_tests/501/test_runs"), "Orders API Soak Test"),
    ("list runs of #502", ("GET", r"/cloud/v6/load_tests/502/test_runs"), "Orders API Smoke"),
    ("what's running?", ("GET", r"/cloud/v6/test_runs"), "#1234"),
    ("status of run 1234", ("GET", r"/cloud/v6/test_runs/1234"), "running"),
    ("show run #1234", ("GET", r"/cloud/v6/test_runs/1234"), "Orders API Soak Test"),
    ("run 1234", ("GET", r"/cloud/v6/test_runs/1234"), "run 1234"),
    ("show script of orders soak test", ("GET", r"/cloud/v6/load_tests/501/script"), "```"),
    ("metrics of run 1230", ("GET", r"/cloud/v6/test_runs/1230.*|/cloud/v5/test_runs/1230/.*"), "p95"),
]


@pytest.mark.parametrize(("text", "request_", "answer"), READS, ids=[r[0] for r in READS])
async def test_reads_answer_only_the_requester(harness: Harness, text: str, request_, answer: str) -> None:
    response = await harness.command(text)
    assert response.status_code == 200
    calls = await harness.responses(1)
    await harness.settle()
    assert harness.sim.count(*request_) >= 1
    assert calls[0].args["response_type"] == "ephemeral"
    assert answer in calls[0].text
    assert harness.fake.calls_of("chat.postMessage") == []


WRITES = [
    ("note run 1234 baseline after the cache fix", ("PATCH", r"/cloud/v6/test_runs/1234"), "Note of run 1234 set"),
    ("star run 1234", ("POST", r"/cloud/v6/test_runs/1234/star"), "starred"),
    ("unstar run #1234", ("POST", r"/cloud/v6/test_runs/1234/unstar"), "unstarred"),
    ("save run 1230", ("POST", r"/cloud/v6/test_runs/1230/save"), "saved"),
    ("unsave run 1230", ("POST", r"/cloud/v6/test_runs/1230/unsave"), "unsaved"),
]


@pytest.mark.parametrize(("text", "request_", "answer"), WRITES, ids=[w[0] for w in WRITES])
async def test_small_writes_happen_at_once_without_channel_noise(
    harness: Harness, text: str, request_, answer: str
) -> None:
    await harness.command(text)
    calls = await harness.responses(1)
    await harness.settle()
    assert harness.sim.count(*request_) == 1
    assert answer in calls[0].text
    assert not buttons(calls[0])
    assert harness.fake.calls_of("chat.postMessage") == []


def _admin(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"allow": {"admin": [ALICE]}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "sentence", "request_"),
    [
        ("start orders soak test", "Start load test 'Orders API Soak Test'", ("POST", START_PATH)),
        ("kick off checkout spike", "Start load test 'Checkout Spike'", ("POST", START_PATH)),
        ("stop run 1234", "Abort test run 1234", ("POST", r"/cloud/v6/test_runs/1234/abort")),
        ("delete run 1230", "Delete test run 1230", ("DELETE", r"/cloud/v6/test_runs/1230")),
        ("delete test login auth flow", "Delete load test 'Login Auth Flow'", ("DELETE", r"/cloud/v6/load_tests/505")),
    ],
)
async def test_run_stop_and_admin_forms_preview_first(make_harness, tmp_path: Path, text, sentence, request_) -> None:
    harness = await make_harness(policy_file=_admin(tmp_path))
    cid, preview = await harness.preview(text)
    assert sentence in preview.text
    assert harness.sim.count(*request_) == 0
    await harness.click("k6bot_confirm", cid)
    await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count(*request_) == 1


async def test_not_understood_gets_suggestions_and_help(harness: Harness) -> None:
    await harness.command("delete")  # several things could be deleted, and none is named
    calls = await harness.responses(1)
    text = calls[0].text
    assert "I didn't understand" in text
    assert "`/k6 delete run`" in text and "`/k6 delete test`" in text
    assert "`/k6 help`" in text
    assert "Traceback" not in text
    await harness.settle()
    assert harness.sim.count("DELETE", r".*") == 0


async def test_a_typo_in_a_verb_is_forgiven_and_still_asks_to_confirm(harness: Harness) -> None:
    await harness.command("strat orders soak test")
    calls = await harness.responses(1)
    assert "Start load test 'Orders API Soak Test'" in calls[0].text
    assert buttons(calls[0])
    await harness.settle()
    assert harness.sim.count("POST", r".*/start") == 0


async def test_subscriptions_of_a_channel(harness: Harness) -> None:
    await harness.command("subscribe")
    await harness.command("subscribe failures of checkout spike")
    calls = await harness.responses(2)
    assert any("every run" in c.text for c in calls)
    assert any("failed runs of 'Checkout Spike'" in c.text for c in calls)
    await harness.command("subscriptions")
    calls = await harness.responses(3)
    assert "every run" in calls[2].text and "Checkout Spike" in calls[2].text and "failures only" in calls[2].text
    async with harness.store.session() as session:
        rows = (await session.execute(select(Subscription))).scalars().all()
    assert {(r.channel_id, r.load_test_id, r.failures_only) for r in rows} == {
        (CHANNEL, None, False),
        (CHANNEL, 503, True),
    }
    await harness.command("unsubscribe checkout spike")
    await harness.command("unsubscribe all")
    calls = await harness.responses(5)
    assert "Unsubscribed from runs of 'Checkout Spike'" in calls[3].text or "Unsubscribed" in calls[4].text
    async with harness.store.session() as session:
        assert (await session.execute(select(Subscription))).scalars().all() == []


async def test_subscribing_to_an_ambiguous_test_offers_a_choice(harness: Harness) -> None:
    await harness.command("subscribe orders")
    calls = await harness.responses(1)
    soak = next(b for b in buttons(calls[0]) if "Soak" in b["text"]["text"])
    await harness.click(soak["action_id"], soak["value"])
    calls = await harness.responses(2)
    assert "Orders API Soak Test" in calls[1].text
    async with harness.store.session() as session:
        rows = (await session.execute(select(Subscription))).scalars().all()
    assert [(r.load_test_id, r.load_test_name) for r in rows] == [(501, "Orders API Soak Test")]


async def test_audit_for_admins(make_harness, tmp_path: Path) -> None:
    harness = await make_harness(policy_file=_admin(tmp_path))
    await harness.command("star run 1234")
    await harness.responses(1)
    await harness.command("audit 5")
    calls = await harness.responses(2)
    shown = calls[1].text.replace("\u200b", "")  # underscores are kept from formatting by a zero-width space
    assert "star_test_run" in shown and "slack:" in calls[1].text
    await harness.command("audit", user=BOB)
    calls = await harness.responses(3)
    assert "You may not use admin operations" in calls[2].text


async def test_rerun_button_of_a_finished_run_message(harness: Harness) -> None:
    await harness.click("k6bot_rerun", "501", user=BOB)
    calls = await harness.responses(1)
    preview = calls[0]
    assert "Start load test 'Orders API Soak Test'" in preview.text
    assert preview.args["replace_original"] is False  # the run-finished message stays as it is
    cid = next(b["value"] for b in buttons(preview) if b["action_id"] == "k6bot_confirm")
    await harness.click("k6bot_confirm", cid, user=BOB)
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", r"/cloud/v6/load_tests/501/start") == 1
    assert f"<@{BOB}> started" in posts[0].text


async def test_save_button_of_a_finished_run_message(harness: Harness) -> None:
    await harness.click("k6bot_save", "1230")
    calls = await harness.responses(1)
    await harness.settle()
    assert harness.sim.count("POST", r"/cloud/v6/test_runs/1230/save") == 1
    assert "saved" in calls[0].text and calls[0].args["replace_original"] is False


async def test_an_unknown_button_is_acknowledged(harness: Harness) -> None:
    response = await harness.click("somebody_elses_button", "x")
    assert response.status_code == 200


async def test_reads_are_acknowledged_in_time_when_the_api_is_slow(harness: Harness) -> None:
    harness.sim.faults.add(Fault(path=r"/cloud/v6/.*", kind="latency", delay=5, times=None))
    began = time.monotonic()
    response = await harness.command("list tests")
    assert response.status_code == 200 and time.monotonic() - began < 3.0
    harness.sim.faults.clear()
    calls = await harness.responses(1)
    assert "Orders API Soak Test" in calls[0].text


async def test_a_burst_of_commands_is_acknowledged_first_and_each_answered_once(harness: Harness) -> None:
    # Acknowledged before bolt runs (bot/slack/app.py EARLY_ACK): every command still gets its one answer.
    harness.sim.faults.add(Fault(path=r"/cloud/v6/.*", kind="latency", delay=1, times=None))
    texts = [f"show run {1230 + i % 5}" for i in range(30)]
    responses = await asyncio.gather(*(harness.command(t) for t in texts))
    assert [r.status_code for r in responses] == [200] * 30
    assert all(r.content == b"" for r in responses)  # an empty acknowledgement: answers go to response_url
    harness.sim.faults.clear()
    calls = await harness.responses(30)
    assert len(calls) == 30
    await harness.settle()
    assert len(harness.fake.calls_of("response_url")) == 30  # none twice


async def _event(harness: Harness, payload: dict, retry: int | None = None):
    body = json.dumps(payload).encode()
    headers = {**sign(body), "Content-Type": "application/json"}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
    return await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)


async def test_url_verification(harness: Harness) -> None:
    response = await _event(harness, {"type": "url_verification", "challenge": "c-123", "token": "x"})
    assert response.status_code == 200
    assert "c-123" in response.text


async def test_a_mention_works_like_the_slash_command(harness: Harness) -> None:
    payload = {
        "type": "event_callback",
        "team_id": "T0FAKE",
        "api_app_id": "A0K6BOT",
        "event_id": "Ev0001",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": ALICE,
            "text": "<@U0K6BOT> what's running?",
            "channel": CHANNEL,
            "ts": "1700000000.000200",
        },
    }
    assert (await _event(harness, payload)).status_code == 200
    assert (await _event(harness, payload, retry=1)).status_code == 200
    calls = await harness.wait("chat.postEphemeral")
    await harness.settle()
    assert len(harness.fake.calls_of("chat.postEphemeral")) == 1
    assert calls[0].args["user"] == ALICE and "#1234" in calls[0].text


def test_signing_helper_matches_slack() -> None:
    # the example from Slack's documentation of request signing
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
        b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign(body, secret="8f742231b10e8888abcd99yyyzzz85a5", timestamp=1531420618)
    assert headers["X-Slack-Signature"] == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert SIGNING_SECRET


# --------------------------------------------------------------------------- subscriptions and help, as people type them


async def _subscriptions(harness: Harness) -> list[tuple[str, int | None, bool]]:
    async with harness.store.session() as session:
        rows = (await session.execute(select(Subscription).order_by(Subscription.id))).scalars().all()
    return [(r.channel_id, r.load_test_id, r.failures_only) for r in rows]


async def _said(harness: Harness, text: str, **kwargs: str) -> str:
    """Send one command and wait for its answer before the next (their effects are ordered, like a person's)."""
    before = len(harness.fake.successful("response_url"))
    await harness.command(text, **kwargs)
    calls = await harness.responses(before + 1)
    return calls[before].text


async def test_plain_unsubscribe_stops_everything_in_the_channel_and_says_what(harness: Harness) -> None:
    """A channel with per-test subscriptions only: plain `unsubscribe` removes them all (messages stop)."""
    await _said(harness, "subscribe orders soak test")
    await _said(harness, "subscribe failures of checkout spike")
    await _said(harness, "subscribe 502", channel="C0OTHER")
    answer = await _said(harness, "unsubscribe")
    assert "Unsubscribed" in answer and "not subscribed" not in answer
    assert "Orders API Soak Test" in answer and "Checkout Spike" in answer and "failures only" in answer
    assert await _subscriptions(harness) == [("C0OTHER", 502, False)]  # other channels keep theirs

    assert "no subscriptions" in await _said(harness, "unsubscribe")

    await _said(harness, "subscribe")
    await _said(harness, "subscribe checkout spike")
    answer = await _said(harness, "unsubscribe checkout spike")  # one test: only that one goes
    assert "Unsubscribed from runs of 'Checkout Spike'" in answer
    assert sorted(await _subscriptions(harness), key=str) == [(CHANNEL, None, False), ("C0OTHER", 502, False)]


async def test_subscribe_answers_in_plain_words(harness: Harness) -> None:
    answers = [
        await _said(harness, text)
        for text in (
            "subscribe",
            "subscribe failures",
            "subscribe orders soak test",
            "subscribe failures of orders soak test",
        )
    ]
    assert "Subscribed: this channel hears about every run when it finishes." in answers[0]
    assert "Updated: this channel now hears about every failed run." in answers[1]
    assert "hears about runs of 'Orders API Soak Test' when they finish." in answers[2]
    assert "now hears about failed runs of 'Orders API Soak Test'." in answers[3]
    for answer in answers:
        assert "finished every" not in answer and "failed every" not in answer


async def test_simultaneous_subscribes_from_slack_make_one_subscription(harness: Harness) -> None:
    users = [f"U0USER{n}" for n in range(8)]
    responses = await asyncio.gather(*(harness.command("subscribe", user=user) for user in users))
    assert all(r.status_code == 200 for r in responses)
    calls = await harness.responses(len(users))
    await harness.settle()
    assert all("hears about every run" in c.text for c in calls), [c.text for c in calls]
    assert await _subscriptions(harness) == [(CHANNEL, None, False)]
    await harness.command("subscribe failures")
    calls = await harness.responses(len(users) + 1)  # one command's answer before the next command is typed
    assert "every failed run" in calls[-1].text
    await harness.command("unsubscribe")
    calls = await harness.responses(len(users) + 2)
    assert "Unsubscribed" in calls[-1].text
    assert await _subscriptions(harness) == []


@pytest.mark.parametrize("text", ["help me", "help me please", "help with blah"])
async def test_help_with_no_real_topic_is_the_whole_help(harness: Harness, text: str) -> None:
    await harness.command(text)
    calls = await harness.responses(1)
    for usage in ("start orders soak test", "abort run 1234", "list tests", "metrics of run 1234", "subscribe"):
        assert usage in calls[0].text, usage


async def test_help_with_a_topic_lists_its_commands(harness: Harness) -> None:
    await harness.command("help with subscriptions")
    calls = await harness.responses(1)
    text = calls[0].text
    for usage in ("/k6 subscribe ", "/k6 unsubscribe ", "/k6 subscriptions"):
        assert usage in text, usage
    assert "abort run" not in text and "metrics of run" not in text
