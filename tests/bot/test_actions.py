"""The one path for every request: confirmation exactly once, by the requester, in time; audit of it all."""

from __future__ import annotations

import asyncio

from bot.actions import Actions, OutcomeKind
from bot.audit import AuditLog
from bot.policy import Actor, Policy
from bot.store import Store
from tests.bot.conftest import Clock
from tools.registry import Safety
from tools.simulator import Simulator

ALICE = Actor("slack", "U0ALICE", "alice", channel="C0LOAD")
BOB = Actor("slack", "U0BOB", "bob", channel="C0LOAD")
START_501 = r"/cloud/v6/load_tests/501/start"


async def audit_trail(store: Store) -> list[tuple[str, str, str, str]]:
    entries = await AuditLog(store).recent(100)
    return [(e.actor_id, e.operation, e.decision, e.result) for e in reversed(entries)]


async def test_reads_run_at_once_and_are_not_audited(actions: Actions, store: Store) -> None:
    outcome = await actions.request(ALICE, "list_load_tests", {})
    assert outcome.kind is OutcomeKind.RESULT and "Orders API Soak Test" in outcome.message
    assert await audit_trail(store) == []


async def test_start_needs_the_requesters_confirmation_once(actions: Actions, sim: Simulator, store: Store) -> None:
    asked = await actions.request(ALICE, "start_load_test", {"load_test": "orders soak test"})
    assert asked.kind is OutcomeKind.CONFIRM and asked.confirmation_id
    assert (
        asked.prepared and asked.prepared.confirmation == "Start load test 'Orders API Soak Test' (id 501, project 77)?"
    )
    assert sim.count("POST", START_501) == 0

    refused = await actions.confirm(BOB, asked.confirmation_id)
    assert refused.kind is OutcomeKind.REFUSED and "Only alice" in refused.message
    assert sim.count("POST", START_501) == 0

    done = await actions.confirm(ALICE, asked.confirmation_id)
    assert done.kind is OutcomeKind.RESULT and done.result is not None
    again = await actions.confirm(ALICE, asked.confirmation_id)
    assert again.kind is OutcomeKind.ALREADY
    starts = [r for r in sim.requests if r.method == "POST" and r.path == START_501]
    assert len(starts) == 1 and starts[0].headers["k6-idempotency-key"] == asked.confirmation_id
    assert await audit_trail(store) == [
        ("U0ALICE", "start_load_test", "requested", ""),
        ("U0ALICE", "start_load_test", "confirmed", "ok"),
    ]


async def test_concurrent_clicks_start_one_run(actions: Actions, sim: Simulator) -> None:
    asked = await actions.request(ALICE, "start_load_test", {"load_test": 501})
    assert asked.confirmation_id
    outcomes = await asyncio.gather(*(actions.confirm(ALICE, asked.confirmation_id) for _ in range(5)))
    assert sorted(o.kind.value for o in outcomes) == ["already"] * 4 + ["result"]
    assert sim.count("POST", START_501) == 1


async def test_cancel_sends_nothing(actions: Actions, sim: Simulator, store: Store) -> None:
    asked = await actions.request(ALICE, "abort_test_run", {"test_run_id": 1234})
    assert asked.confirmation_id
    cancelled = await actions.cancel(ALICE, asked.confirmation_id)
    assert cancelled.kind is OutcomeKind.CANCELLED
    late = await actions.confirm(ALICE, asked.confirmation_id)
    assert late.kind is OutcomeKind.ALREADY and "cancelled" in late.message
    assert sim.count("POST", r".*/abort") == 0
    assert [t[2] for t in await audit_trail(store)] == ["requested", "cancelled"]


async def test_expired_confirmation_does_nothing(actions: Actions, sim: Simulator, clock: Clock, store: Store) -> None:
    asked = await actions.request(ALICE, "abort_test_run", {"test_run_id": 1234})
    assert asked.confirmation_id
    clock.advance(601)
    expired = await actions.confirm(ALICE, asked.confirmation_id)
    assert expired.kind is OutcomeKind.EXPIRED and "expired" in expired.message
    assert sim.count("POST", r".*/abort") == 0
    assert [t[2] for t in await audit_trail(store)] == ["requested", "expired"]


async def test_state_is_rechecked_after_the_confirmation(actions: Actions, sim: Simulator, store: Store) -> None:
    asked = await actions.request(ALICE, "abort_test_run", {"test_run_id": 1234})
    assert asked.confirmation_id
    sim.finish_run(1234)  # the run ends while the person reads the preview
    outcome = await actions.confirm(ALICE, asked.confirmation_id)
    assert outcome.kind is OutcomeKind.ERROR and "Run 1234 is not running" in outcome.message
    assert sim.count("POST", r".*/abort") == 0
    assert (await audit_trail(store))[-1] == ("U0ALICE", "abort_test_run", "confirmed", "error")


async def test_policy_is_checked_when_asked_and_again_when_confirmed(
    actions: Actions, sim: Simulator, store: Store
) -> None:
    denied = await actions.request(ALICE, "delete_test_run", {"test_run_id": 1233})
    assert denied.kind is OutcomeKind.DENIED and "admin" in denied.message and denied.confirmation is None
    asked = await actions.request(ALICE, "abort_test_run", {"test_run_id": 1234})
    assert asked.confirmation_id
    actions.policy = Policy(allow={**actions.policy.allow, Safety.STOP: ("U0SOMEONE",)})  # the rules changed meanwhile
    refused = await actions.confirm(ALICE, asked.confirmation_id)
    assert refused.kind is OutcomeKind.DENIED
    assert sim.count("POST", r".*/abort") == 0 and sim.count("DELETE", ".*") == 0
    assert [t[2] for t in await audit_trail(store)] == ["denied", "requested", "denied"]


async def test_ambiguous_names_ask_for_a_choice(actions: Actions, sim: Simulator) -> None:
    outcome = await actions.request(ALICE, "start_load_test", {"load_test": "orders"})
    assert outcome.kind is OutcomeKind.CHOOSE
    assert {c.id for c in outcome.candidates} == {501, 502}
    assert sim.count("POST", ".*") == 0


async def test_small_writes_run_directly_and_are_audited(actions: Actions, store: Store) -> None:
    outcome = await actions.request(ALICE, "star_test_run", {"test_run_id": 1233})
    assert outcome.kind is OutcomeKind.RESULT
    assert await audit_trail(store) == [("U0ALICE", "star_test_run", "direct", "ok")]


async def test_a_claim_whose_process_died_can_be_retried_without_a_second_run(
    actions: Actions, sim: Simulator, clock: Clock
) -> None:
    asked = await actions.request(ALICE, "start_load_test", {"load_test": 501})
    assert asked.confirmation_id
    first = await actions.confirmations.claim(asked.confirmation_id, ALICE)  # claimed, then the process "dies"
    assert first.ok
    await actions.toolbox.execute(
        "start_load_test", {"load_test": 501}, confirmed=True, idempotency_key=asked.confirmation_id
    )
    busy = await actions.confirm(ALICE, asked.confirmation_id)
    assert busy.kind is OutcomeKind.ALREADY
    clock.advance(120)
    retried = await actions.confirm(ALICE, asked.confirmation_id)
    assert retried.kind is OutcomeKind.RESULT
    assert len({r["id"] for r in sim.list_runs(501) if r["id"] > 1238}) == 1  # demo run ids end at 1238


async def test_unknown_operations_and_bad_arguments_change_nothing(actions: Actions, sim: Simulator) -> None:
    unknown = await actions.request(ALICE, "start_load_tests", {})
    assert unknown.kind is OutcomeKind.ERROR and "Did you mean 'start_load_test'" in unknown.message
    bad = await actions.request(ALICE, "abort_test_run", {"test_run_id": -3})
    assert bad.kind is OutcomeKind.ERROR and "test_run_id" in bad.message
    missing = await actions.confirm(ALICE, "no-such-confirmation")
    assert missing.kind is OutcomeKind.ERROR
    assert sim.count("POST", ".*") == 0
