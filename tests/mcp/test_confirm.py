"""A person confirms every run / stop: elicitation accept / decline / cancel, the confirm flag, ambiguous names.

Each test runs on the classic protocol and on 2026-07-28 (where elicitation travels in input-required rounds),
against the simulator over real HTTP, and counts what reached the API.
"""

from __future__ import annotations

import asyncio

from bot.audit import AuditLog
from bot.mcp import build_server
from tests.mcp.conftest import ABORT_PATH, START_PATH, Person, audit_entries, connect, text_of
from tools.simulator import Simulator

ORDERS_SOAK = 501
ORDERS_SMOKE = 502
RUNNING = 1234


async def test_accepted_start_starts_exactly_one_run_of_the_named_test_with_an_idempotency_key(
    server, sim: Simulator, person: Person, protocol: str, audit: AuditLog
) -> None:
    async with connect(server, protocol, person=person.will("accept")) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders soak test"})

    assert not result.is_error, text_of(result)
    starts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/start")]
    assert [r.path for r in starts] == [f"/cloud/v6/load_tests/{ORDERS_SOAK}/start"]
    key = starts[0].headers.get("k6-idempotency-key")
    assert key and 1 <= len(key) <= 36
    data = result.structured_content
    assert data["outcome"] == "done"
    assert data["result"]["load_test_id"] == ORDERS_SOAK
    assert data["result"]["idempotency_key"] == key
    assert "Started 'Orders API Soak Test'" in text_of(result)
    (question,) = person.messages
    assert question.startswith("Start load test 'Orders API Soak Test' (id 501")
    assert "Last run #" in question and "VUH" in question  # what helps decide: last run and its cost
    assert "Estimated cost" in question
    entries = await audit_entries(audit)
    assert [(e.operation, e.decision, e.result, e.actor_id) for e in entries] == [
        ("start_load_test", "confirmed", "ok", "test-assistant")
    ]
    assert entries[0].confirmation_id == key


async def test_declined_start_sends_nothing_after_the_question(
    server, sim: Simulator, person: Person, protocol: str, audit: AuditLog
) -> None:
    async with connect(server, protocol, person=person.will("decline")) as client:
        result = await client.call_tool("start_load_test", {"load_test": ORDERS_SOAK})

    assert not result.is_error
    assert sim.count("POST", START_PATH) == 0
    assert len(sim.requests) == person.requests_when_asked[0], "an API call was made after the person declined"
    assert result.structured_content["outcome"] == "declined"
    assert "result" not in result.structured_content  # nothing was done: no result (None fields are left out)
    assert "nothing was changed" in text_of(result)
    assert {r.method for r in sim.requests} == {"GET"}, "the preview only reads"
    assert [(e.decision, e.detail) for e in await audit_entries(audit)] == [("cancelled", "declined")]


async def test_cancelled_question_sends_nothing_after_it(server, sim: Simulator, person: Person, protocol: str) -> None:
    async with connect(server, protocol, person=person.will("cancel")) as client:
        result = await client.call_tool("abort_test_run", {"test_run_id": RUNNING})

    assert result.structured_content["outcome"] == "cancelled"
    assert sim.count("POST", ABORT_PATH) == 0
    assert len(sim.requests) == person.requests_when_asked[0]


async def test_accepted_abort_aborts_exactly_once(server, sim: Simulator, person: Person, protocol: str) -> None:
    async with connect(server, protocol, person=person.will("accept")) as client:
        result = await client.call_tool("abort_test_run", {"run_id": RUNNING})

    assert not result.is_error, text_of(result)
    assert [r.path for r in sim.requests if r.method == "POST"] == [f"/cloud/v6/test_runs/{RUNNING}/abort"]
    assert result.structured_content["result"]["test_run"]["status"] == "aborted"
    (question,) = person.messages
    assert question.startswith(f"Abort test run {RUNNING} of 'Orders API Soak Test'")


async def test_an_accept_that_unticks_confirm_counts_as_a_no(server, sim: Simulator, person: Person) -> None:
    async with connect(server, "legacy", person=person.will(("accept", {"confirm": False}))) as client:
        result = await client.call_tool("abort_test_run", {"test_run_id": RUNNING})

    assert result.structured_content["outcome"] == "declined"
    assert sim.count("POST", ABORT_PATH) == 0


async def test_without_elicitation_nothing_happens_until_confirm_true(
    server, sim: Simulator, protocol: str, audit: AuditLog
) -> None:
    async with connect(server, protocol) as client:
        preview = await client.call_tool("start_load_test", {"load_test": "orders soak test"})
        assert sim.count("POST", START_PATH) == 0
        started = await client.call_tool("start_load_test", {"load_test": "orders soak test", "confirm": True})

    assert not preview.is_error
    data = preview.structured_content
    assert data["outcome"] == "needs_confirmation"
    assert data["preview"]["confirmation"].startswith("Start load test 'Orders API Soak Test'")
    assert any("Last run" in note for note in data["preview"]["notes"])
    assert "confirm: true" in text_of(preview)
    assert started.structured_content["outcome"] == "done"
    assert sim.count("POST", START_PATH) == 1
    assert [(e.decision, e.result) for e in await audit_entries(audit)] == [("requested", ""), ("confirmed", "ok")]


async def test_confirm_true_does_not_skip_the_question_when_the_client_can_ask(
    server, sim: Simulator, person: Person, protocol: str
) -> None:
    async with connect(server, protocol, person=person.will("decline")) as client:
        result = await client.call_tool("start_load_test", {"load_test": ORDERS_SOAK, "confirm": True})

    assert result.structured_content["outcome"] == "declined"
    assert sim.count("POST", START_PATH) == 0


async def test_ambiguous_name_without_elicitation_starts_nothing_and_names_both_candidates(
    server, sim: Simulator, protocol: str
) -> None:
    async with connect(server, protocol) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders", "confirm": True})

    assert not result.is_error
    assert sim.count("POST", START_PATH) == 0
    data = result.structured_content
    assert data["outcome"] == "ambiguous"
    assert {c["id"] for c in data["candidates"]} == {ORDERS_SOAK, ORDERS_SMOKE}
    assert "Orders API Soak Test" in text_of(result) and "Orders API Smoke" in text_of(result)


async def test_ambiguous_name_is_a_choice_then_a_confirmation(
    server, sim: Simulator, person: Person, protocol: str
) -> None:
    person.will(("accept", {"load_test": str(ORDERS_SMOKE)}), "accept")
    async with connect(server, protocol, person=person) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders"})

    assert not result.is_error, text_of(result)
    choice, confirmation = person.asked
    options = choice.requested_schema["properties"]["load_test"]["oneOf"]
    assert {o["const"] for o in options} == {str(ORDERS_SOAK), str(ORDERS_SMOKE)}
    assert confirmation.message.startswith("Start load test 'Orders API Smoke' (id 502")
    assert [r.path for r in sim.requests if r.method == "POST" and r.path.endswith("/start")] == [
        f"/cloud/v6/load_tests/{ORDERS_SMOKE}/start"
    ]


async def test_declining_the_choice_starts_nothing_and_names_the_candidates(
    server, sim: Simulator, person: Person, protocol: str, audit: AuditLog
) -> None:
    async with connect(server, protocol, person=person.will("decline")) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders"})

    assert sim.count("POST", START_PATH) == 0
    assert len(sim.requests) == person.requests_when_asked[0]
    assert result.structured_content["outcome"] == "ambiguous"
    assert "Orders API Soak Test" in text_of(result) and "Orders API Smoke" in text_of(result)
    assert [e.decision for e in await audit_entries(audit)] == ["cancelled"]


async def test_an_answer_that_is_not_one_of_the_candidates_starts_nothing(
    server, sim: Simulator, person: Person
) -> None:
    async with connect(server, "legacy", person=person.will(("accept", {"load_test": "503"}))) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders"})

    assert result.structured_content["outcome"] == "ambiguous"
    assert sim.count("POST", START_PATH) == 0


async def test_a_run_that_ended_between_question_and_yes_is_not_aborted(server, sim: Simulator, protocol: str) -> None:
    """The yes re-checks the state: the run finished while the person read the question."""

    async def finish_then_accept(context, params):
        sim.clock.advance(3 * 3600)  # the soak test completes meanwhile
        return __import__("mcp_types").ElicitResult(action="accept", content={})

    async with connect(server, protocol, person=finish_then_accept) as client:  # type: ignore[arg-type]
        result = await client.call_tool("abort_test_run", {"test_run_id": RUNNING})

    assert result.is_error
    assert text_of(result).startswith(f"Run {RUNNING} is not running, so it cannot be aborted")
    assert sim.count("POST", ABORT_PATH) == 0


async def test_small_writes_need_no_confirmation_and_are_audited(
    toolbox, sim: Simulator, person: Person, audit: AuditLog
) -> None:
    server = build_server(toolbox, audit=audit, toolsets="runs")
    async with connect(server, "legacy", person=person) as client:
        result = await client.call_tool("star_test_run", {"test_run_id": 1201})

    assert not result.is_error, text_of(result)
    assert person.asked == []
    assert sim.count("POST", r"/cloud/v6/test_runs/1201/star") == 1
    assert [(e.operation, e.decision, e.result) for e in await audit_entries(audit)] == [
        ("star_test_run", "direct", "ok")
    ]


async def test_confirm_true_twice_starts_one_run_and_the_repeat_says_so(
    server, sim: Simulator, protocol: str, audit: AuditLog
) -> None:
    arguments = {"load_test": "orders soak test", "confirm": True}
    async with connect(server, protocol) as client:
        first = await client.call_tool("start_load_test", arguments)
        again = await client.call_tool("start_load_test", {**arguments, "load_test": "Orders soak test"})

    assert sim.count("POST", START_PATH) == 1
    one, two = first.structured_content, again.structured_content
    assert (one["repeat"], two["repeat"]) == (False, True)
    assert two["result"]["test_run"]["id"] == one["result"]["test_run"]["id"]
    assert "nothing new was started" in text_of(again)
    details = [e.detail for e in await audit_entries(audit)]
    assert details == ["confirm: true", "confirm: true: repeat of an identical call, nothing new done"]


async def test_concurrent_identical_confirmed_starts_start_one_run(server, sim: Simulator, protocol: str) -> None:
    arguments = {"load_test": "orders soak test", "confirm": True}
    async with connect(server, protocol) as client:
        results = await asyncio.gather(*(client.call_tool("start_load_test", arguments) for _ in range(5)))

    assert sim.count("POST", START_PATH) == 1
    assert len({r.structured_content["result"]["test_run"]["id"] for r in results}) == 1


async def test_the_same_confirmed_start_from_another_session_is_a_new_run(server, sim: Simulator) -> None:
    arguments = {"load_test": "orders soak test", "confirm": True}
    for _ in range(2):
        async with connect(server, "legacy") as client:
            await client.call_tool("start_load_test", arguments)
    assert sim.count("POST", START_PATH) == 2
