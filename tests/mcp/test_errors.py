"""Errors reach the model as the sentence a person would read: no prefix, no traceback, never the token."""

from __future__ import annotations

import pytest

from bot.mcp import build_server
from tests.conftest import TEST_TOKEN, make_settings
from tests.mcp.conftest import START_PATH, connect, text_of
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator

ORDERS_SOAK = 501


def assert_clean(text: str) -> None:
    assert "Error executing tool" not in text
    assert "Traceback" not in text
    assert TEST_TOKEN not in text


async def test_unknown_run_is_the_not_found_sentence(server, protocol: str) -> None:
    async with connect(server, protocol) as client:
        result = await client.call_tool("get_test_run", {"test_run_id": 987654})

    assert result.is_error
    assert text_of(result) == "Test run 987654 not found."


async def test_aborting_a_finished_run_says_why_and_sends_no_abort(server, sim: Simulator, person) -> None:
    async with connect(server, "legacy", person=person) as client:
        result = await client.call_tool("abort_test_run", {"test_run_id": 1201})

    assert result.is_error
    assert text_of(result).startswith("Run 1201 is not running, so it cannot be aborted")
    assert person.asked == []  # nothing to confirm
    assert sim.count("POST", r"/cloud/v6/test_runs/\d+/abort") == 0


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({"test_run_id": 1234, "verbose": True}, "Invalid arguments for get_test_run: unknown argument 'verbose'."),
        ({}, "Invalid arguments for get_test_run: 'test_run_id' is required."),
        ({"test_run_id": "twelve"}, "Invalid arguments for get_test_run: 'test_run_id'"),
        ({"test_run_id": 0}, "Invalid arguments for get_test_run: 'test_run_id'"),
    ],
)
async def test_invalid_arguments_are_one_clear_sentence(server, sim: Simulator, arguments, sentence: str) -> None:
    async with connect(server, "legacy") as client:
        result = await client.call_tool("get_test_run", arguments)

    assert result.is_error
    assert text_of(result).startswith(sentence)
    assert_clean(text_of(result))
    assert sim.requests == []


@pytest.mark.parametrize("alias", ["test_run_id", "run_id", "id", "test_run"])
async def test_the_run_id_has_its_aliases(server, alias: str) -> None:
    async with connect(server, "legacy") as client:
        result = await client.call_tool("get_test_run", {alias: 1234})

    assert not result.is_error, text_of(result)
    assert result.structured_content["id"] == 1234


async def test_a_bad_confirm_flag_is_refused_before_anything_is_sent(server, sim: Simulator) -> None:
    async with connect(server, "legacy") as client:
        result = await client.call_tool("start_load_test", {"load_test": ORDERS_SOAK, "confirm": "yes please"})

    assert result.is_error
    assert text_of(result) == "Invalid arguments for start_load_test: 'confirm' must be true or false."
    assert sim.requests == []


async def test_an_unknown_test_name_is_a_did_you_mean(server, sim: Simulator) -> None:
    async with connect(server, "legacy") as client:
        result = await client.call_tool("start_load_test", {"load_test": "zebra migration test", "confirm": True})

    assert result.is_error
    assert text_of(result).startswith("No load test matches 'zebra migration test'.")
    assert sim.count("POST", START_PATH) == 0


async def test_a_rejected_token_is_explained_without_showing_it(sim_url: str, sim: Simulator) -> None:
    wrong = "wrong-token-value-12345"
    async with K6CloudClient(make_settings(sim_url, token=wrong), backoff_base=0.01) as client:
        server = build_server(Toolbox(client))
        async with connect(server, "legacy") as mcp:
            result = await mcp.call_tool("list_test_runs", {})

    assert result.is_error
    assert text_of(result) == "k6 Cloud did not accept the API token (401). Check K6_CLOUD_TOKEN."
    assert wrong not in text_of(result)


async def test_an_unexpected_failure_is_a_generic_sentence_and_logged(
    server, toolbox: Toolbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(*args, **kwargs):
        raise RuntimeError(f"internal detail with {TEST_TOKEN}")

    monkeypatch.setattr(toolbox, "execute", explode)
    async with connect(server, "legacy") as client:
        result = await client.call_tool("get_test_run", {"test_run_id": 1234})

    assert result.is_error
    assert text_of(result) == (
        "k6bot could not complete get_test_run because of an unexpected internal error; the details are in k6bot's log."
    )
    assert_clean(text_of(result))
    assert "Unexpected error in the MCP tool get_test_run" in caplog.text


async def test_unknown_tool(server) -> None:
    async with connect(server, "legacy") as client:
        result = await client.call_tool("launch_rockets", {})

    assert result.is_error
    assert "launch_rockets" in text_of(result)
