"""Who may do what, where: denials are ephemeral, name what is missing and change nothing; help is filtered."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

from bot.policy import Policy
from bot.store import AuditEntry, Confirmation
from tests.slack.conftest import ABORT_PATH, ALICE, BOB, START_PATH, Harness, buttons

CAROL = "U0CAROL"


def write_policy(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def _confirmations(harness: Harness) -> list[Confirmation]:
    async with harness.store.session() as session:
        return list((await session.execute(select(Confirmation))).scalars())


async def test_a_denied_start_names_what_is_missing_and_changes_nothing(make_harness, tmp_path: Path) -> None:
    policy = write_policy(tmp_path, {"allow": {"run": [ALICE], "stop": [ALICE]}})
    harness = await make_harness(policy_file=policy)
    await harness.command("start orders soak test", user=BOB)
    calls = await harness.responses(1)
    await harness.settle()
    denial = calls[0]
    assert denial.args["response_type"] == "ephemeral"
    assert "You may not start load tests" in denial.text and "allow.run" in denial.text
    assert not buttons(denial)
    assert await _confirmations(harness) == []
    assert harness.sim.count("POST", START_PATH) == 0
    assert harness.sim.count("GET", r"/cloud/v6/load_tests.*") == 0  # not even looked up
    async with harness.store.session() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [(e.actor_id, e.decision) for e in entries] == [(BOB, "denied")]


async def test_help_lists_only_what_the_asker_may_do(make_harness, tmp_path: Path) -> None:
    policy = write_policy(tmp_path, {"allow": {"read": ["*"], "write": [ALICE], "run": [ALICE], "stop": [ALICE]}})
    harness = await make_harness(policy_file=policy)
    await harness.command("help", user=BOB)
    await harness.command("help", user=ALICE)
    calls = await harness.responses(2)
    texts = {call.text for call in calls}
    bob = next(t for t in texts if "/k6 start" not in t)
    alice = next(t for t in texts if "/k6 start" in t)
    assert "list tests" in bob and "abort run" not in bob and "note run" not in bob and "/k6 delete" not in bob
    assert "not shown" in bob
    assert "start orders soak test" in alice and "abort run" in alice and "/k6 delete" not in alice  # nobody is admin


async def test_without_a_policy_file_admin_operations_are_refused_until_someone_is_named(harness: Harness) -> None:
    await harness.command("delete run 1230")
    calls = await harness.responses(1)
    await harness.settle()
    assert "Nobody may use admin operations" in calls[0].text and "allow.admin" in calls[0].text
    assert harness.sim.count("DELETE", r".*") == 0
    await harness.command("start orders soak test")  # run is allowed to everyone by default
    calls = await harness.responses(2)
    assert buttons(calls[1])


async def test_an_admin_may_delete_a_run_after_confirming(make_harness, tmp_path: Path) -> None:
    harness = await make_harness(policy_file=write_policy(tmp_path, {"allow": {"admin": [ALICE]}}))
    cid, call = await harness.preview("delete run 1230")
    assert "confirm" in buttons(call)[0]  # destructive: Slack asks again
    await harness.click("k6bot_confirm", cid)
    await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("DELETE", r"/cloud/v6/test_runs/1230") == 1


async def test_user_groups_named_in_the_policy_count(make_harness, tmp_path: Path) -> None:
    harness = await make_harness(policy_file=write_policy(tmp_path, {"allow": {"stop": ["S0ONCALL"]}}))
    harness.fake.usergroups["S0ONCALL"] = [BOB]
    await harness.command("abort run 1234", user=ALICE)
    await harness.command("abort run 1234", user=BOB)
    calls = await harness.responses(2)
    by_text = sorted(calls, key=lambda c: bool(buttons(c)))
    assert "You may not stop test runs" in by_text[0].text and "subteam^S0ONCALL" in by_text[0].text
    assert buttons(by_text[1])  # Bob, a member of the on-call group, gets the preview
    lookups = harness.fake.calls_of("usergroups.users.list")
    assert {c.args.get("usergroup") for c in lookups} == {"S0ONCALL"}
    assert len(lookups) == 1  # cached briefly


async def test_channel_limits(make_harness, tmp_path: Path) -> None:
    harness = await make_harness(policy_file=write_policy(tmp_path, {"channels": ["C0LOAD"]}))
    await harness.command("list tests", channel="C0RANDOM")
    calls = await harness.responses(1)
    assert "only acts in" in calls[0].text and "C0LOAD" in calls[0].text
    await harness.command("list tests", channel="C0LOAD")
    calls = await harness.responses(2)
    assert "Orders API Soak Test" in calls[1].text


async def test_a_signed_request_without_a_channel_is_refused_when_channels_are_limited(
    make_harness, tmp_path: Path
) -> None:
    harness = await make_harness(policy_file=write_policy(tmp_path, {"channels": ["C0LOAD"]}))
    for text in ("list tests", "start orders soak test", "help"):
        body = harness.command_body(text).replace(b"channel_id=C0LOAD&", b"")
        assert b"channel_id" not in body
        assert (await harness.post(body)).status_code == 200
    calls = await harness.responses(3)
    await harness.settle()
    for call in calls[:2]:
        assert "no channel" in call.text and "C0LOAD" in call.text, call.text
        assert "Orders API" not in call.text
    assert "start" not in calls[2].text  # help shows nothing that may not be used
    assert harness.sim.requests == []
    assert harness.sim.count("POST", START_PATH) == 0
    # a click that names no channel confirms nothing either
    cid, _ = await harness.preview("start orders soak test")
    payload = harness.click_body("k6bot_confirm", cid)
    stripped = payload.replace(b"%22channel_id%22%3A+%22C0LOAD%22%2C+", b"").replace(
        b"%22channel%22%3A+%7B%22id%22%3A+%22C0LOAD%22%2C+%22name%22%3A+%22load-tests%22%7D%2C+", b""
    )
    assert b"C0LOAD" not in stripped
    await harness.post(stripped)
    calls = await harness.responses(6)  # "working on it", then the decision replaces it
    await harness.settle()
    assert "no channel" in calls[5].text and calls[5].args["replace_original"] is True, calls[5].text
    assert harness.sim.count("POST", START_PATH) == 0


async def test_the_policy_is_checked_again_at_confirmation(harness: Harness) -> None:
    cid, _ = await harness.preview("abort run 1234")
    harness.frontend.actions.policy = Policy.from_mapping({"allow": {"stop": [CAROL]}})
    harness.frontend.dispatcher.actions.policy = harness.frontend.actions.policy
    await harness.click("k6bot_confirm", cid)
    calls = await harness.responses(3)
    await harness.settle()
    assert "You may not stop test runs" in calls[-1].text
    assert calls[-1].args["replace_original"] is True
    assert harness.sim.count("POST", ABORT_PATH) == 0


async def test_read_only_mode_allows_reads_only(make_harness) -> None:
    harness = await make_harness(read_only=True)
    await harness.command("start orders soak test")
    await harness.command("star run 1234")
    await harness.command("help")
    calls = await harness.responses(3)
    await harness.settle()
    texts = [c.text for c in calls]
    assert sum("read-only mode" in t for t in texts) == 2
    help_text = next(t for t in texts if "What you can do" in t)
    assert "/k6 start" not in help_text and "list tests" in help_text
    assert harness.sim.count("POST", r".*") == 0


async def test_subscribing_needs_the_write_class(make_harness, tmp_path: Path) -> None:
    harness = await make_harness(policy_file=write_policy(tmp_path, {"allow": {"write": [ALICE]}}))
    await harness.command("subscribe", user=BOB)
    calls = await harness.responses(1)
    assert "You may not change notes and stars" in calls[0].text
    await harness.command("audit", user=ALICE)
    calls = await harness.responses(2)
    assert "Nobody may use admin operations" in calls[1].text
