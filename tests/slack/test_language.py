"""The command language through the real Slack app (signed requests, fake Slack): references, batches, questions,
asking back, watching, help by group."""

from __future__ import annotations

from sqlalchemy import select

from bot.store import AuditEntry, WatchedRun
from tests.slack.conftest import ABORT_PATH, CHANNEL, START_PATH, Harness, buttons, confirmation_id


async def _answer(harness: Harness, text: str):
    before = len(harness.fake.successful("response_url"))
    await harness.command(text)
    return (await harness.responses(before + 1))[before]


async def _confirmed(harness: Harness, text: str, preview: str, path: str):
    """Send ``text``, check its preview says ``preview`` and nothing reached ``path`` before the yes, then confirm."""
    call = await _answer(harness, text)
    assert preview in call.text
    cid = confirmation_id(call)
    await harness.settle()
    assert harness.sim.count("POST", path) == 0  # nothing before the yes
    await harness.click("k6bot_confirm", cid)
    await harness.wait("chat.postMessage")
    await harness.settle()
    return call


async def test_abort_the_soak_means_its_running_run_and_asks_first(harness: Harness) -> None:
    await _confirmed(harness, "abort the soak", "Abort test run 1234 of 'Orders API Soak Test'", ABORT_PATH)
    aborts = [r.path for r in harness.sim.requests if r.method == "POST" and r.path.endswith("/abort")]
    assert aborts == ["/cloud/v6/test_runs/1234/abort"]


async def test_abort_all_running_tests_is_one_confirmation_listing_each_and_each_abort_is_audited(
    harness: Harness,
) -> None:
    going = sorted(
        r["id"] for r in harness.sim.list_runs() if r["status"] in ("created", "queued", "initializing", "running")
    )
    assert len(going) >= 2, going
    call = await _answer(harness, "abort all running tests")
    for run_id in going:
        assert f"run {run_id}" in call.text
    assert [b["text"]["text"] for b in buttons(call)] == ["Confirm", "Cancel"]
    await harness.click("k6bot_confirm", confirmation_id(call))
    await harness.wait("chat.postMessage")
    await harness.settle()
    aborted = sorted(
        int(r.path.split("/")[4]) for r in harness.sim.requests if r.method == "POST" and r.path.endswith("/abort")
    )
    assert aborted == going
    async with harness.store.session() as session:
        rows = (
            (await session.execute(select(AuditEntry).where(AuditEntry.operation == "abort_test_run"))).scalars().all()
        )
    confirmed = sorted(r.arguments["test_run_id"] for r in rows if r.decision == "confirmed" and r.result == "ok")
    assert confirmed == going


async def test_a_yes_no_question_gets_the_answer_first(harness: Harness) -> None:
    call = await _answer(harness, "is 1234 done yet?")
    first = call.args["blocks"][0]["text"]["text"]
    assert first.startswith("*No — run 1234 is running for"), first
    call = await _answer(harness, "who started run 1234")
    assert call.args["blocks"][0]["text"]["text"].startswith("*maria.garcia@example.com started run 1234")


async def test_a_missing_argument_is_asked_for_with_buttons_and_the_pick_goes_on(harness: Harness) -> None:
    call = await _answer(harness, "start")
    assert "Which load test?" in call.text
    picks = [b for b in buttons(call) if b["action_id"].startswith("k6bot_pick")]
    assert len(picks) >= 2
    soak = next(b for b in picks if b["value"] == "501")
    await harness.click(soak["action_id"], "501")
    calls = await harness.responses(2)
    assert "Start load test 'Orders API Soak Test' (id 501" in calls[1].text
    await harness.settle()
    assert harness.sim.count("POST", START_PATH) == 0  # the pick leads to the preview, not to a start


async def test_which_run_is_asked_with_the_runs_going_now(harness: Harness) -> None:
    call = await _answer(harness, "abort")
    assert "Which run?" in call.text
    picked = {b["value"] for b in buttons(call) if b["action_id"].startswith("k6bot_pick")}
    assert "1234" in picked


async def test_tell_me_when_it_finishes_follows_the_run_in_this_channel(harness: Harness) -> None:
    call = await _answer(harness, "tell me when 1234 finishes")
    assert "I'll post here when run 1234 of 'Orders API Soak Test' finishes." in call.text
    async with harness.store.session() as session:
        row = await session.get(WatchedRun, 1234)
    assert row is not None and row.channel_id == CHANNEL


async def test_start_and_tell_me_when_its_done_starts_after_the_yes_and_follows_the_new_run_here(
    harness: Harness,
) -> None:
    text = "start the orders soak and tell me when it's done"
    await _confirmed(harness, text, "Start load test 'Orders API Soak Test' (id 501", START_PATH)
    assert harness.sim.count("POST", START_PATH) == 1
    newest = max(r["id"] for r in harness.sim.list_runs() if r["test_id"] == 501)
    async with harness.store.session() as session:
        row = await session.get(WatchedRun, newest)
    assert row is not None and row.channel_id == CHANNEL and row.origin == "slack"


async def test_abort_and_start_it_again_is_never_one_silent_write(harness: Harness) -> None:
    call = await _answer(harness, "abort 1234 and then start it again")
    assert "I didn't understand" in call.text or buttons(call)
    assert "k6bot_confirm" not in {b["action_id"] for b in buttons(call)}
    await harness.settle()
    assert harness.sim.count("POST", r".*") == 0


async def test_help_of_one_group_shows_it_in_full_as_far_as_the_asker_may(harness: Harness) -> None:
    call = await _answer(harness, "help schedules")
    text = call.text
    assert "/k6 list schedules" in text and "/k6 show schedule 2" in text and "/k6 what is scheduled" in text
    assert "/k6 abort run" not in text  # another group
    assert "/k6 schedule orders soak" not in text and "not shown" in text  # nobody is admin without a policy


async def test_a_miss_suggests_the_nearest_commands_with_the_words_given(harness: Harness) -> None:
    call = await _answer(harness, "delete")
    assert "I didn't understand" in call.text
    assert "`/k6 delete run`" in call.text
    await harness.settle()
    assert harness.sim.count("DELETE", r".*") == 0
