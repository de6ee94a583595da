"""Ambiguous test names become buttons; hostile names stay text."""

from __future__ import annotations

import json

from tests.slack.conftest import ALICE, BOB, START_PATH, Harness, buttons, confirmation_id

HOSTILE = "<!channel> & <@U123> *bold*"


async def test_an_ambiguous_name_offers_one_button_per_test_then_the_normal_confirmation(harness: Harness) -> None:
    await harness.command("start orders")
    calls = await harness.responses(1)
    choice = calls[0]
    assert "matches 2 load tests" in choice.text
    picks = [b for b in buttons(choice) if b["action_id"].startswith("k6bot_pick")]
    labels = sorted(b["text"]["text"] for b in picks)
    assert labels == ["Orders API Smoke", "Orders API Soak Test"]
    assert harness.sim.count("POST", START_PATH) == 0
    soak = next(b for b in picks if "Soak" in b["text"]["text"])
    assert soak["value"] == "501"  # the button's value is the load test id
    assert len(soak["action_id"]) <= 255

    # someone else cannot pick for Alice
    await harness.click(soak["action_id"], soak["value"], user=BOB)
    calls = await harness.responses(2)
    assert "Only" in calls[1].text and calls[1].args["replace_original"] is False

    await harness.click(soak["action_id"], soak["value"])
    calls = await harness.responses(3)
    preview = calls[2]
    assert preview.args["replace_original"] is True  # the choice turns into the preview
    assert "Start load test 'Orders API Soak Test' (id 501" in preview.text
    await harness.click("k6bot_confirm", confirmation_id(preview))
    await harness.wait("chat.postMessage")
    await harness.settle()
    assert harness.sim.count("POST", r"/cloud/v6/load_tests/501/start") == 1
    assert harness.sim.count("POST", START_PATH) == 1


async def test_an_ambiguous_read_is_answered_after_the_pick(harness: Harness) -> None:
    await harness.command("runs of orders")
    calls = await harness.responses(1)
    smoke = next(b for b in buttons(calls[0]) if "Smoke" in b["text"]["text"])
    await harness.click(smoke["action_id"], smoke["value"])
    calls = await harness.responses(2)
    assert "of *Orders API Smoke*" in calls[1].text


async def test_never_mind_removes_the_choice(harness: Harness) -> None:
    await harness.command("start orders")
    calls = await harness.responses(1)
    dismiss = next(b for b in buttons(calls[0]) if b["action_id"] == "k6bot_dismiss")
    await harness.click(dismiss["action_id"], dismiss["value"])
    calls = await harness.responses(2)
    assert calls[1].args == {"delete_original": True}


async def test_a_name_that_matches_nothing_gets_suggestions(harness: Harness) -> None:
    await harness.command("start flux capacitor")
    calls = await harness.responses(1)
    assert "No load test matches 'flux capacitor'" in calls[0].text
    assert not buttons(calls[0])


def _no_raw_mentions(harness: Harness) -> None:
    for call in harness.fake.calls:
        text = call.text + json.dumps(call.args.get("blocks"))
        assert "<!channel>" not in text
        assert "<@U123>" not in text


async def test_a_hostile_test_name_never_pings_or_formats(harness: Harness) -> None:
    created = harness.sim.add_load_test(77, HOSTILE)
    await harness.command("list tests")
    calls = await harness.responses(1)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in calls[0].text
    cid, preview = await harness.preview(f"start {created['id']}")
    assert "&lt;!channel&gt;" in preview.text
    await harness.click("k6bot_confirm", cid)
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in posts[0].text
    assert f"<@{ALICE}>" in posts[0].text  # the real mention of who did it stays a mention
    await harness.command("runs of " + str(created["id"]))
    await harness.responses(4)
    await harness.settle()
    _no_raw_mentions(harness)


async def test_hostile_user_text_is_escaped_everywhere(harness: Harness) -> None:
    # Slack sends what people type with &, < and > escaped, and real mentions formatted as <!channel>, <@U123>.
    await harness.command("&lt;!channel&gt; please do &lt;@U123&gt; things")
    await harness.command("start <!channel>")
    await harness.command("note run 1234 &lt;!channel&gt; ping &amp; &lt;@U123&gt;")
    calls = await harness.responses(3)
    await harness.settle()
    _no_raw_mentions(harness)
    assert any("I didn't understand" in c.text for c in calls)
    # the note itself is stored as typed (it is data, not a message)
    patch = next(r for r in harness.sim.requests if r.method == "PATCH")
    assert json.loads(patch.body)["note"] == "<!channel> ping & <@U123>"


async def test_the_same_name_in_two_projects_is_told_apart(harness: Harness) -> None:
    twin = harness.sim.add_load_test(78, "Orders API Soak Test")
    await harness.command("start Orders API Soak Test")
    calls = await harness.responses(1)
    picks = {b["value"]: b["text"]["text"] for b in buttons(calls[0]) if b["action_id"].startswith("k6bot_pick")}
    assert picks == {
        "501": "Orders API Soak Test (Default project)",
        str(twin["id"]): "Orders API Soak Test (Payments)",
    }
    action_id = next(b["action_id"] for b in buttons(calls[0]) if b["value"] == str(twin["id"]))
    await harness.click(action_id, str(twin["id"]))
    calls = await harness.responses(2)
    assert f"(id {twin['id']}, project 78)" in calls[1].text


# --------------------------------------------------------------------------- what Slack sends back to what was typed


async def test_a_note_is_stored_as_typed_not_as_slack_escaped_it(harness: Harness) -> None:
    """Slack sends & < > as &amp; &lt; &gt;."""
    await harness.command("note run 1234 latency &lt; 200ms &amp; no errors")
    await harness.responses(1)
    await harness.settle()
    patch = next(r for r in harness.sim.requests if r.method == "PATCH")
    assert json.loads(patch.body)["note"] == "latency < 200ms & no errors"


async def test_a_name_with_an_ampersand_resolves_exactly(harness: Harness) -> None:
    exact = harness.sim.add_load_test(77, "R&D Checkout Flow")
    harness.sim.add_load_test(77, "R&D Checkout Flow v2")
    _cid, preview = await harness.preview("start R&amp;D Checkout Flow")
    assert f"Start load test 'R&amp;D Checkout Flow' (id {exact['id']}" in preview.text  # no choice: exact
    assert not [b for b in buttons(preview) if b["action_id"].startswith("k6bot_pick")]


async def test_mentions_channels_and_links_arrive_as_typed(harness: Harness) -> None:
    text = (
        "note run 1234 ask <@U0BOB|bob> in <#C0OPS|ops> about <https://grafana.example/d/1?a=1&amp;b=2|the dashboard>"
    )
    await harness.command(text)
    await harness.responses(1)
    await harness.settle()
    patch = next(r for r in harness.sim.requests if r.method == "PATCH")
    assert json.loads(patch.body)["note"] == "ask @bob in #ops about the dashboard"
