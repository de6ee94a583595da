"""wait_for_test_run: progress notifications while it polls, the final summary, a timeout, cancellation."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.mcp.conftest import connect, text_of
from tools.registry import Toolbox
from tools.simulator import Simulator

RUNNING = 1234  # the demo's running soak test
RUN_PATH = rf"/cloud/v6/test_runs/{RUNNING}"


async def test_progress_reports_status_and_elapsed_time_until_the_final_summary(
    server, sim: Simulator, protocol: str
) -> None:
    sim.clock.speed = 0  # simulated time moves only when the test says so
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))
        if len(updates) == 1:
            sim.clock.advance(4 * 3600)  # the soak test runs to its end before the next poll

    async with connect(server, protocol) as client:
        result = await client.call_tool(
            "wait_for_test_run",
            {"test_run_id": RUNNING, "poll_seconds": 0.5, "timeout_seconds": 600},
            progress_callback=on_progress,
        )

    assert not result.is_error, text_of(result)
    assert len(updates) >= 2
    first_message = updates[0][2] or ""
    assert first_message.startswith(f"Run {RUNNING} (Orders API Soak Test): running")
    assert "elapsed" in first_message
    assert all(total == 600 for _, total, _ in updates)
    assert [p for p, _, _ in updates] == sorted(p for p, _, _ in updates)
    assert "completed" in (updates[-1][2] or "")
    report = result.structured_content
    assert report["finished"] is True and report["timed_out"] is False
    summary = report["test_run"]
    assert summary["status"] == "completed" and summary["result"] == "passed"
    assert summary["duration_seconds"] and summary["vuh"] and summary["url"]
    text = text_of(result)
    assert "finished: completed, passed" in text and "Link:" in text and "VUH" in text


async def test_an_aborted_run_reports_why(server, sim: Simulator, person) -> None:
    sim.clock.speed = 0
    async with connect(server, "legacy", person=person.will("accept")) as client:
        await client.call_tool("abort_test_run", {"test_run_id": RUNNING})
        sim.clock.advance(60)
        result = await client.call_tool("wait_for_test_run", {"test_run_id": RUNNING, "poll_seconds": 0.5})

    summary = result.structured_content["test_run"]
    assert summary["status"] == "aborted"
    assert summary["abort_reason"] == "aborted by you@example.com"
    assert "aborted by you@example.com" in text_of(result)


async def test_the_wait_stops_at_its_timeout_and_says_the_run_goes_on(server, sim: Simulator) -> None:
    sim.clock.speed = 0
    async with connect(server, "legacy") as client:
        result = await client.call_tool(
            "wait_for_test_run", {"test_run_id": RUNNING, "poll_seconds": 0.5, "timeout_seconds": 1}
        )

    report = result.structured_content
    assert report["finished"] is False and report["timed_out"] is True
    assert report["test_run"]["status"] == "running"
    assert "It goes on" in text_of(result)


async def test_cancelling_the_call_stops_the_polling(
    server, sim: Simulator, toolbox: Toolbox, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.clock.speed = 0
    ended = anyio.Event()
    how: dict[str, str] = {}
    execute = toolbox.execute

    async def traced(name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await execute(name, *args, **kwargs)
        except BaseException as exc:
            how[name] = type(exc).__name__
            raise
        finally:
            if name == "wait_for_test_run":
                ended.set()

    monkeypatch.setattr(toolbox, "execute", traced)
    polling = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        polling.set()

    async with connect(server, protocol) as client:
        async with anyio.create_task_group() as group:

            async def wait() -> None:
                await client.call_tool(
                    "wait_for_test_run", {"test_run_id": RUNNING, "poll_seconds": 0.5}, progress_callback=on_progress
                )

            group.start_soon(wait)
            with anyio.fail_after(10):
                await polling.wait()
            group.cancel_scope.cancel()

        with anyio.fail_after(10):
            await ended.wait()
        polls = sim.count("GET", RUN_PATH)
        still_there = await client.call_tool("get_test_run", {"test_run_id": RUNNING})  # the session goes on

    assert how["wait_for_test_run"] == "CancelledError"
    assert not still_there.is_error
    assert sim.count("GET", RUN_PATH) == polls + 1  # only the get_test_run above; the wait polls no more
