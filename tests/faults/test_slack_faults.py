"""Slack faults over real HTTP: 429/5xx bursts on chat.postMessage, response_url and chat.update while a run is
started from Slack (preview → Confirm → announce → watch → notify).

Counted at the edges: runs created at the simulator, the announcement and the run-finished notification as they
arrived at the fake Slack, and the preview message, which must end in a final state (never "Working on it…",
never with its buttons still there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.config import BotSettings
from bot.notify.notifier import Notifier
from bot.notify.outbox import make_slack_client
from bot.slack.blocks import SlackMessage, section
from bot.slack.respond import Responder
from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.slack import FakeSlack, SlackCall
from tests.faults.conftest import ROWS, FaultRow
from tests.notify.conftest import ManualClock
from tests.slack.conftest import CHANNEL, START_PATH, Harness, buttons
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer


@pytest.fixture
def slack_sim() -> Simulator:
    """The demo stack with its clock stopped: the started run finishes when the test says so."""
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=0, demo=True)


@pytest.fixture
async def make_notifier(slack_sim: Simulator, fake_slack: FakeSlack) -> AsyncIterator[Callable[[Harness], Notifier]]:
    """A notifier on the harness's database, the same simulator (its own server) and the fake Slack."""
    made: list[tuple[Notifier, K6CloudClient, SimulatorServer]] = []

    def make(harness: Harness) -> Notifier:
        server = SimulatorServer(slack_sim)
        client = K6CloudClient(make_settings(server.start()), backoff_base=0.01, backoff_max=0.05)
        bot = BotSettings(_env_file=None, poll_seconds=0.2)  # type: ignore[call-arg]
        notifier = Notifier(
            Toolbox(client),
            harness.store,
            make_slack_client(fake_slack.bot_token, fake_slack.api_url),
            bot,
            retry_base=0.05,
            retry_max=0.5,
            clock=ManualClock(),
        )
        made.append((notifier, client, server))
        return notifier

    yield make
    for notifier, client, server in made:
        await notifier.stop()
        session = getattr(notifier.slack_client, "session", None)
        if session is not None and not session.closed:
            await session.close()
        await client.aclose()
        server.stop()


# ---------------------------------------------------------------------- counting at the fake Slack


def _is_announcement(call: SlackCall) -> bool:
    return "started *Orders API Soak Test*" in call.text


def announcements(fake: FakeSlack) -> list[SlackCall]:
    """The announcement as it arrived: a channel message, or an in_channel post through a response_url."""
    posted = [c for c in fake.successful("chat.postMessage") if _is_announcement(c)]
    through_url = [
        c
        for c in fake.successful("response_url")
        if c.args.get("response_type") == "in_channel" and _is_announcement(c)
    ]
    return posted + through_url


def notifications(fake: FakeSlack, run_id: int) -> list[SlackCall]:
    return [
        c
        for c in fake.successful("chat.postMessage")
        if any(b.get("block_id") == f"k6bot_run_finished:{run_id}" for b in c.args.get("blocks") or [])
    ]


def preview_state(fake: FakeSlack) -> str:
    """What the preview message shows now: the last successful replacement of it, or 'preview' if none."""
    replaced = [c for c in fake.successful("response_url") if c.args.get("replace_original") is True]
    if not replaced:
        return "preview"
    last = replaced[-1]
    if buttons(last):
        return "buttons"
    if "Working on it" in last.text:
        return "working"
    return "started" if "Started 'Orders API Soak Test'" in last.text else "other"


# ---------------------------------------------------------------------- the start → announce → notify path

# (method, times, status, Retry-After). Each burst is armed after the preview was shown, before Confirm.
SLACK_FAULTS: dict[str, list[tuple[str, int, int, float | None]]] = {
    "response_url 429 x3, Retry-After 0": [("response_url", 3, 429, 0)],
    "response_url 503 x3": [("response_url", 3, 503, None)],
    "response_url 500 x1": [("response_url", 1, 500, None)],
    "chat.postMessage 429 x2, Retry-After 0": [("chat.postMessage", 2, 429, 0)],
    "chat.postMessage 500 x1 (announce)": [("chat.postMessage", 1, 500, None)],
    "chat.postMessage 429 x3 + response_url 429 x1": [
        ("chat.postMessage", 3, 429, 0),
        ("response_url", 1, 429, 0),
    ],
    "chat.update 429 x2, Retry-After 0": [("chat.update", 2, 429, 0)],
    "chat.update 500 x2": [("chat.update", 2, 500, None)],
}


@pytest.mark.parametrize("name", list(SLACK_FAULTS))
async def test_a_start_from_slack_under_slack_faults_is_started_announced_and_notified_once(
    make_harness: Callable[..., Any], make_notifier: Callable[[Harness], Notifier], name: str
) -> None:
    harness: Harness = await make_harness()
    fake, sim = harness.fake, harness.sim
    notifier = make_notifier(harness)
    await notifier.poll_once()  # the baseline: old finished demo runs stay quiet
    before = set(sim.run_ids())
    cid, _ = await harness.preview("start orders soak test")

    for method, times, status, retry_after in SLACK_FAULTS[name]:
        fake.fail(method, times=times, status=status, retry_after=retry_after)
    response = await harness.click("k6bot_confirm", cid)
    assert response.status_code == 200
    await harness.wait_sim("POST", START_PATH)
    await harness.settle()
    created = sorted(set(sim.run_ids()) - before)

    # the watcher follows the run to its end and tells the thread (or the channel) once
    for run_id in created:
        sim.finish_run(run_id, status="completed")
    for _ in range(4):
        notifier.clock.advance(5)  # type: ignore[attr-defined]  # past any outbox retry delay
        await notifier.poll_once()
        await notifier.send_once()

    announced = announcements(fake)
    notified = [c for run_id in created for c in notifications(fake, run_id)]
    state = preview_state(fake)
    outcome = "ok" if (len(announced), len(notified), state) == (1, 1, "started") else f"preview {state}"
    where = "Slack confirm→announce→notify"
    ROWS.append(FaultRow(name, where, outcome, 1, len(created)))
    ROWS.append(FaultRow(name, where, outcome, 1, len(announced), counted="announcements"))
    ROWS.append(FaultRow(name, where, outcome, 1, len(notified), counted="notifications"))
    ROWS.append(FaultRow(name, where, outcome, 1, int(state == "started"), counted="preview final"))

    for method, times, status, _ in SLACK_FAULTS[name]:
        fired = [c for c in fake.calls_of(method) if c.status == status]
        assert len(fired) == times, f"the {method} fault did not fire: {fake.summary()}"
    assert sim.count("POST", START_PATH) == 1 and len(created) == 1, fake.summary()
    assert len(announced) == 1, fake.summary()
    assert len(notified) == 1, fake.summary()
    assert state == "started", fake.summary()
    assert [c.args.get("channel") for c in notified] == [CHANNEL]


# ---------------------------------------------------------------------- what a response_url post may repeat


def _message() -> SlackMessage:
    return SlackMessage("k6bot fault test", [section("k6bot fault test")])


@pytest.mark.parametrize(
    ("status", "retry_after", "kind", "delivered", "posts"),
    [
        pytest.param(429, 0, "replace", True, 3, id="replace-429x2"),
        pytest.param(503, None, "replace", True, 3, id="replace-503x2"),
        pytest.param(429, 0, "delete", True, 3, id="delete-429x2"),
        pytest.param(502, None, "delete", True, 3, id="delete-502x2"),
        pytest.param(429, 0, "in_channel", True, 3, id="new-message-429x2"),
        # a 5xx may have been processed: a new message is not sent again (a duplicate would be worse than none)
        pytest.param(500, None, "in_channel", False, 1, id="new-message-500-not-repeated"),
    ],
)
async def test_a_response_url_post_is_repeated_only_when_that_cannot_duplicate_it(
    fake_slack: FakeSlack, status: int, retry_after: float | None, kind: str, delivered: bool, posts: int
) -> None:
    client = make_slack_client(fake_slack.bot_token, fake_slack.api_url)
    # no channel: the Web API fallback is out of the way, only the response_url is counted
    responder = Responder(client, response_url=fake_slack.response_url("r1"), channel_id=None, user_id=None)
    fake_slack.fail("response_url", times=2, status=status, retry_after=retry_after)
    if kind == "replace":
        ok = await responder.replace(_message())
    elif kind == "delete":
        ok = await responder.delete_original()
    else:
        ok = await responder.in_channel(_message())
    calls = fake_slack.calls_of("response_url")
    delivered_count = len(fake_slack.successful("response_url"))
    outcome = "delivered" if ok else "given up"
    fault = f"response_url {status} x2"
    ROWS.append(FaultRow(fault, f"Responder.{kind}", outcome, int(delivered), delivered_count, counted="messages"))
    assert ok is delivered
    assert len(calls) == posts, fake_slack.summary()
    assert delivered_count == (1 if delivered else 0)


async def test_a_long_retry_after_on_a_response_url_is_not_waited_for(fake_slack: FakeSlack) -> None:
    """Retry-After is honoured only up to a bound: a minute-long wait would hold the answer far too long."""
    client = make_slack_client(fake_slack.bot_token, fake_slack.api_url)
    responder = Responder(client, response_url=fake_slack.response_url("r1"), channel_id=None, user_id=None)
    fake_slack.fail("response_url", times=1, status=429, retry_after=3600)
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    responder.sleep = record
    assert await responder.delete_original() is True
    assert slept and max(slept) <= 10
    assert len(fake_slack.successful("response_url")) == 1
