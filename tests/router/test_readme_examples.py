"""The README's "What people can type" promises: every example in its table is understood, and the
`k6bot explain --json` answers it prints are the ones k6bot gives (against the demo, clock frozen, UTC)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.router.test_corpus import write_requests
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### What people can type\n", 1)[1].split("\n### ", 1)[0]
BOT_WORDS = ("subscribe", "unsubscribe", "subscriptions", "audit")
"""Bot commands of the table's last row: they need a channel (Slack) or the store, not the parser alone."""


def table_examples() -> list[str]:
    rows = [line for line in SECTION.splitlines() if line.startswith("| `")]
    texts = [text for row in rows for text in re.findall(r"`([^`]+)`", row.split(" | ", 1)[0])]
    return [text for text in texts if not text.startswith(BOT_WORDS)]


def printed_answers() -> list[tuple[str, dict[str, object]]]:
    pairs = re.findall(r'^\$ k6bot explain --json "([^"]+)"\n(\{.*\})$', SECTION, flags=re.MULTILINE)
    return [(text, json.loads(answer)) for text, answer in pairs]


def test_the_section_has_what_the_tests_read() -> None:
    assert len(table_examples()) >= 25
    assert len(printed_answers()) == 2
    assert "docs/operations.md" in SECTION and "help schedules" in SECTION


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0.0, demo=True)
    with SimulatorServer(simulator) as url:
        yield simulator, url


@pytest.fixture
async def toolbox(
    demo: tuple[Simulator, str], clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Toolbox]:
    monkeypatch.setenv("K6BOT_TIMEZONE", "UTC")
    async with K6CloudClient(make_settings(demo[1]), backoff_base=0.01, backoff_max=0.05) as client:
        yield Toolbox(client)


@pytest.mark.parametrize("text", table_examples())
async def test_every_example_in_the_table_is_understood(
    text: str, demo: tuple[Simulator, str], toolbox: Toolbox
) -> None:
    from bot.router.explain import explain

    demo[0].clear_requests()
    answer = (await explain(text, toolbox)).as_json()
    assert "error" not in answer, f"the README says {text!r} works; k6bot answers {answer}"
    assert not write_requests([item.to_dict() for item in demo[0].requests])


@pytest.mark.parametrize(("text", "printed"), printed_answers())
async def test_the_printed_answers_are_what_explain_says(
    text: str, printed: dict[str, object], demo: tuple[Simulator, str], toolbox: Toolbox
) -> None:
    from bot.router.explain import explain

    assert (await explain(text, toolbox)).as_json() == printed
