"""A test named ``*x* _y_ ~z~ `c` <!channel> <https://evil|click>`` is inert in every kind of Slack message.

The real Slack app is driven through signed requests (lists, a choice between two tests of that name, its
buttons, the preview, the announcement, the run's summary and note, an API error that repeats the name,
help, not-understood), and the notifier follows the run to its end (progress, the finished message and
the thread reply). Every text in every payload the fake Slack recorded is checked: no formatting, no
mention, no link survives; the name is still there to read.
"""

from __future__ import annotations

import json
from typing import Any

from bot.config import BotSettings
from bot.notify.notifier import Notifier
from bot.notify.outbox import make_slack_client
from tests.slack.conftest import Harness, buttons, confirmation_id
from tools.simulator.faults import Fault

HOSTILE = "*x* _y_ ~z~ `c` <!channel> <https://evil|click>"
ACTIVE = ("*x*", "_y_", "~z~", "`c`", "<!channel>", "<https://evil|click>", "<https://evil")
"""What Slack would format, ping or link if it reached a message as it is."""
READABLE = ("x", "y", "z", "c", "&lt;!channel&gt;")


def texts(value: Any, key: str | None = None) -> list[str]:
    """Every string under a "text" key in a payload (section, context, fields, buttons, dialogs, fallback)."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += texts(v, k)
    elif isinstance(value, list):
        for item in value:
            found += texts(item, key)
    elif isinstance(value, str) and key == "text":
        found.append(value)
    return found


def assert_inert(harness: Harness, *, at_least: int) -> list[str]:
    every = []
    for call in harness.fake.calls:
        for text in texts(call.args):
            for active in ACTIVE:
                assert active not in text, f"{active!r} is live in {call.method}: {text!r}"
            every.append(text)
    hostile = [t for t in every if "&lt;!channel&gt;" in t]
    assert len(hostile) >= at_least, f"the name shows in only {len(hostile)} texts"
    for text in hostile:
        plain = text.replace("\u200b", "")
        assert "x* _y_ ~z~ `c` &lt;!channel&gt; &lt;https://evil|click&gt;" in plain or "¦" in plain, text
    return every


async def test_a_hostile_name_is_inert_in_every_kind_of_slack_message(harness: Harness) -> None:
    sim = harness.sim
    sim.user_email = "_y_*x*@evil.example"  # who started the runs, as the API reports it
    first = sim.add_load_test(77, HOSTILE)
    twin = sim.add_load_test(78, HOSTILE)  # same name in another project: a choice
    sim.rename_project(78, f"Team {HOSTILE}")

    await harness.command("list tests")
    await harness.command("start " + HOSTILE.replace("<", "&lt;").replace(">", "&gt;"))
    calls = await harness.responses(2)
    picks = [b for b in buttons(calls[1]) if b["action_id"].startswith("k6bot_pick")]
    assert len(picks) == 2, calls[1].text
    pick = next(b for b in picks if b["value"] == str(first["id"]))
    await harness.click(pick["action_id"], pick["value"])
    calls = await harness.responses(3)
    cid = confirmation_id(calls[2])
    await harness.click("k6bot_confirm", cid)
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    run_id = int(json.dumps(posts[0].args).split("/runs/")[1].split("|")[0])

    await harness.command(f"note run {run_id} {HOSTILE.replace('<', '&lt;').replace('>', '&gt;')}")
    await harness.command(f"status of run {run_id}")
    await harness.command(f"runs of {first['id']}")
    await harness.command(f"show test {twin['id']}")
    sim.faults.add(
        Fault(
            method="GET",
            path=r"/cloud/v6/test_runs/999999",
            status=400,
            body={"error": {"code": "x", "message": HOSTILE}},
        )
    )
    await harness.command("status of run 999999")
    await harness.command("help")
    await harness.command("help " + HOSTILE)
    await harness.command(HOSTILE)
    await harness.responses(13)
    await harness.settle()

    # the notifier follows the run: progress in the announcement, then the finished message in its thread
    notifier = Notifier(
        harness.frontend.backend.toolbox,
        harness.store,
        make_slack_client(harness.frontend.bot_token, harness.fake.api_url),
        BotSettings(_env_file=None, poll_seconds=60),  # type: ignore[call-arg]
        slack=None,
    )
    try:
        await notifier.poll_once()
        await notifier.send_once()
        sim.abort_run(run_id)
        await notifier.check_run(run_id)
        await notifier.send_once()
    finally:
        await notifier.stop()
    finished = [c for c in harness.fake.successful("chat.postMessage") if c.args.get("thread_ts")]
    assert finished, harness.fake.summary()

    every = assert_inert(harness, at_least=13)
    assert any("evil.example" in t for t in every), "the email that started the run is shown, inert"
    showing = [c.method for c in harness.fake.calls if any("&lt;!channel&gt;" in t for t in texts(c.args))]
    assert showing.count("chat.postMessage") == 2 and "chat.update" in showing  # announcement, thread reply
