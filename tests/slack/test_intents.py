"""Durable intents of confirmed Slack clicks: what is recorded before and after the API call, and what a
restarted k6bot does with an intent a crash left open (the kill -9 runs are in tests/faults/test_crash_restart.py).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from sqlalchemy import select, update

from bot.notify.outbox import Outbox, OutboxSender, make_slack_client
from bot.store import AuditEntry, Confirmation, OutboxMessage, WatchedRun, utcnow
from tests.slack.conftest import ALICE, BOB, CHANNEL, START_PATH, Harness


async def _row(harness: Harness, cid: str) -> Confirmation:
    row = await harness.frontend.actions.confirmations.get(cid)
    assert row is not None
    return row


async def test_a_confirmed_start_records_where_to_answer_then_its_follow_up_once(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    assert (await harness.click("k6bot_confirm", cid)).status_code == 200
    await harness.wait("chat.postMessage")
    await harness.settle()

    row = await _row(harness, cid)
    assert row.state == "done" and row.sent_at is not None and row.followup == "delivered"
    assert row.origin is not None
    assert row.origin["channel_id"] == CHANNEL and row.origin["message_ts"] == "1700000000.000100"
    assert row.origin["response_url"].startswith(harness.fake.base_url)
    run_id = row.result["test_run"]["id"]  # type: ignore[index]
    async with harness.store.session() as session:
        outbox = (await session.execute(select(OutboxMessage))).scalars().all()
        watched = await session.get(WatchedRun, run_id)
    assert [(m.dedupe_key, m.state) for m in outbox] == [(f"announce:{cid}:{run_id}", "sent")]
    assert watched is not None and watched.message_ts == outbox[0].slack_ts  # the announcement is the start message

    # a repeated click changes nothing: no second start, no second announcement
    assert (await harness.click("k6bot_confirm", cid)).status_code == 200
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 1
    assert len(harness.fake.successful("chat.postMessage")) == 1


async def test_a_click_by_someone_else_records_no_origin(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    confirmations = harness.frontend.actions.confirmations
    assert not await confirmations.record_origin(cid, BOB, {"channel_id": "C0ELSEWHERE", "response_url": "x"})
    assert (await _row(harness, cid)).origin is None
    assert await confirmations.record_origin(cid, ALICE, {"channel_id": CHANNEL})
    assert (await _row(harness, cid)).origin == {"channel_id": CHANNEL}


GONE = f"{socket.gethostname()[:120]}:{os.getpid()}:gone0000"
"""The holder id of a process that is certainly gone (this host, this pid, not a live instance here)."""


async def _left_open(harness: Harness, *, sent_ago: timedelta | None, holder: str = GONE) -> str:
    """A confirmed start as a crash leaves it: claimed, maybe sent, never recorded; its id."""
    cid, _ = await harness.preview("start orders soak test")
    url = harness.response_url()
    decided = utcnow() - (sent_ago or timedelta(seconds=30))
    async with harness.store.session() as session:
        await session.execute(
            update(Confirmation)
            .where(Confirmation.id == cid)
            .values(
                state="confirmed",
                decided_at=decided,
                sent_at=decided if sent_ago is not None else None,
                origin={
                    "channel_id": CHANNEL,
                    "response_url": url,
                    "message_ts": "1700000000.000100",
                    "holder": holder,
                },
            )
        )
    return cid


async def _recover(harness: Harness) -> None:
    followups = harness.frontend.handlers.followups
    followups.started_at = utcnow()  # this "process" started after the crash
    assert await followups.start_recovery(harness.frontend.actions, harness.frontend.client) == 1
    assert followups.recovering is not None
    assert await followups.recovering == 1


async def test_a_start_left_open_long_ago_is_not_sent_again_and_says_the_outcome_is_unknown(harness: Harness) -> None:
    cid = await _left_open(harness, sent_ago=timedelta(hours=2))
    await _recover(harness)

    assert harness.sim.count("POST", START_PATH) == 0  # k6 Cloud may have forgotten the key: no second paid run
    row = await _row(harness, cid)
    assert (row.state, row.followup) == ("failed", "delivered")
    (final,) = [c for c in harness.fake.successful("response_url") if c.args.get("replace_original") is True]
    assert "Unknown outcome" in final.text and "check k6 Cloud" in final.text
    assert harness.fake.successful("chat.postMessage") == []
    async with harness.store.session() as session:
        audited = (await session.execute(select(AuditEntry).where(AuditEntry.confirmation_id == cid))).scalars()
        decisions = [(a.decision, a.result) for a in audited]
    assert decisions == [("requested", ""), ("confirmed", "error")]


async def test_an_open_start_is_reconciled_by_one_replica_only(harness: Harness) -> None:
    cid = await _left_open(harness, sent_ago=timedelta(seconds=30))
    snapshot = await _row(harness, cid)
    confirmations = harness.frontend.actions.confirmations
    assert await confirmations.take_over(snapshot)
    assert not await confirmations.take_over(snapshot)  # the second replica saw the same row: it is taken
    assert await confirmations.unfinished(before=utcnow()) != []  # still open: the taker finishes it


async def test_a_sent_start_left_open_is_sent_again_with_its_key_and_announced_once(harness: Harness) -> None:
    cid = await _left_open(harness, sent_ago=timedelta(seconds=30))
    await _recover(harness)

    assert harness.sim.count("POST", START_PATH) == 1  # the first send never arrived here: this one starts it
    row = await _row(harness, cid)
    assert (row.state, row.followup) == ("done", "delivered")
    assert row.result is not None and row.result["idempotency_key"] == cid
    (announced,) = harness.fake.successful("chat.postMessage")
    assert "started *Orders API Soak Test*" in announced.text
    # and a second recovery (another restart) finds nothing to do
    followups = harness.frontend.handlers.followups
    followups.recovering = None
    assert await followups.start_recovery(harness.frontend.actions, harness.frontend.client) == 0


async def test_a_rate_limited_announcement_leaves_the_preview_final_at_once_and_goes_out_later_once(
    harness: Harness,
) -> None:
    """Slack's 429 with a long Retry-After used to hold the click (and its "Working on it…") for ~16 s, the
    window in which a crash lost everything; now the preview is final at once and the outbox owns the rest."""
    cid, _ = await harness.preview("start orders soak test")
    harness.fake.fail("chat.postMessage", times=1, status=429, retry_after=20)
    began = time.monotonic()
    assert (await harness.click("k6bot_confirm", cid)).status_code == 200
    await harness.settle()
    assert time.monotonic() - began < 10

    row = await _row(harness, cid)
    assert (row.state, row.followup) == ("done", "delivered")
    final = [c for c in harness.fake.successful("response_url") if c.args.get("replace_original") is True][-1]
    assert "Started 'Orders API Soak Test'" in final.text
    run_id = row.result["test_run"]["id"]  # type: ignore[index]
    async with harness.store.session() as session:
        (pending,) = (await session.execute(select(OutboxMessage))).scalars().all()
        watched = await session.get(WatchedRun, run_id)
    assert (pending.dedupe_key, pending.state, pending.attempts) == (f"announce:{cid}:{run_id}", "pending", 1)
    assert watched is not None and watched.channel_id == CHANNEL and watched.message_ts is None

    # the notifier's sender, once the Retry-After has passed: sent once, and it becomes the run's start message
    later = OutboxSender(
        Outbox(harness.store, clock=lambda: utcnow() + timedelta(seconds=21)),
        make_slack_client(harness.fake.bot_token, harness.fake.api_url),
        holder="test-notifier",
        clock=lambda: utcnow() + timedelta(seconds=21),
    )
    assert await later.send_due() == 1
    assert await later.send_due() == 0
    announced = [c for c in harness.fake.successful("chat.postMessage") if "started *Orders API Soak Test*" in c.text]
    assert len(announced) == 1
    async with harness.store.session() as session:
        sent = (await session.execute(select(OutboxMessage))).scalars().one()
        watched = await session.get(WatchedRun, run_id)
    assert sent.state == "sent" and watched is not None and watched.message_ts == sent.slack_ts is not None


async def test_an_intent_of_a_process_that_may_still_be_alive_is_left_to_it_as_long_as_a_repeated_click_would(
    harness: Harness,
) -> None:
    await _left_open(harness, sent_ago=timedelta(seconds=30), holder="another-host:4242:live0000")
    followups = harness.frontend.handlers.followups
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    followups.sleep = record
    await _recover(harness)
    assert len(waited) == 1 and 55 < waited[0] <= 60  # STALE_CLAIM (90 s) after its claim 30 s ago
    assert harness.sim.count("POST", START_PATH) == 1
