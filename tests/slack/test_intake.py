"""Acknowledgements first (bot/slack/intake.py): background steps wait for their turn, and nothing is lost."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.slack.intake import Priority
from tests.slack.conftest import Harness


async def _until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def test_no_turn_while_an_acknowledgement_is_under_way_then_in_the_order_asked() -> None:
    priority = Priority(hold_off=0.0, max_wait=60)
    order: list[int] = []

    async def step(n: int) -> None:
        await priority.turn()
        order.append(n)

    with priority.acknowledging():
        steps = [asyncio.create_task(step(n)) for n in range(3)]
        await _until(lambda: priority.waiting == 3, "three waiting steps")
        for _ in range(50):  # fifty loop iterations: none of them may hand out a turn
            await asyncio.sleep(0)
        assert order == [] and priority.waiting == 3
    await asyncio.wait_for(asyncio.gather(*steps), 5)
    assert order == [0, 1, 2] and priority.waiting == 0


async def test_turns_come_one_per_loop_iteration_not_all_at_once() -> None:
    priority = Priority(hold_off=0.0)
    done: list[int] = []

    async def step(n: int) -> None:
        await priority.turn()
        done.append(n)

    steps = [asyncio.create_task(step(n)) for n in range(5)]
    seen: list[int] = []
    while len(done) < 5:
        await asyncio.sleep(0)
        seen.append(len(done))
    await asyncio.gather(*steps)
    assert all(b - a <= 1 for a, b in itertools.pairwise(seen)), seen  # never two in one iteration


async def test_sustained_acknowledgements_do_not_starve_background_work() -> None:
    priority = Priority(hold_off=0.0, max_wait=0.05)
    with priority.acknowledging():  # never finishes while the step waits
        began = time.monotonic()
        await asyncio.wait_for(priority.turn(), 5)
        assert time.monotonic() - began >= 0.045


async def test_a_cancelled_waiter_does_not_hold_up_the_next() -> None:
    priority = Priority(hold_off=0.0, max_wait=60)
    with priority.acknowledging():
        first = asyncio.create_task(priority.turn())
        second = asyncio.create_task(priority.turn())
        await _until(lambda: priority.waiting == 2, "two waiting steps")
        first.cancel()
    await asyncio.wait_for(second, 5)
    assert first.cancelled()


async def test_a_command_acknowledged_while_another_ack_is_under_way_waits_then_is_answered(harness: Harness) -> None:
    """The acknowledgement needs no bolt, database or API; the command's handling waits for its turn and is
    not lost."""
    priority = harness.frontend.priority
    priority.hold_off = 0.0  # only the acknowledgement under way holds the command back
    api_before = len(harness.sim.requests)
    with priority.acknowledging():  # as if another acknowledgement were still being written
        response = await harness.command("show run 1234")
        assert response.status_code == 200 and response.content == b""
        await _until(lambda: priority.waiting == 1, "the command's dispatch to wait for its turn")
        for _ in range(50):  # fifty loop iterations: the turn must not come
            await asyncio.sleep(0)
        assert priority.waiting == 1
        assert harness.fake.calls_of("response_url") == []
        assert len(harness.sim.requests) == api_before  # nothing asked of k6 Cloud yet
    calls = await harness.responses(1)
    assert "1234" in calls[0].text


async def test_other_methods_than_post_are_405(harness: Harness) -> None:
    response = await harness.http.get(f"{harness.url}/slack/events")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_beyond_max_queued_a_command_is_refused_before_its_ack_and_the_queued_one_still_answered(
    harness: Harness,
) -> None:
    frontend = harness.frontend
    frontend.max_queued = 1
    frontend.priority.hold_off = 0.0
    with frontend.priority.acknowledging():  # keeps the first command queued
        first = await harness.command("show run 1234")
        second = await harness.command("show run 1235")
        assert (first.status_code, second.status_code) == (200, 503)
        assert second.json() == {"ok": False, "error": "busy"}
    calls = await harness.responses(1)
    await harness.settle()
    assert len(harness.fake.calls_of("response_url")) == 1 and "1234" in calls[0].text
