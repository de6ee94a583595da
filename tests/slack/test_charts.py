"""Charts in Slack over signed HTTP: the PNG is uploaded with the current flow (files.getUploadURLExternal, the
bytes to the upload URL, files.completeUploadExternal) into the conversation or thread, checked at the fake."""

from __future__ import annotations

import json
import struct
import time

import httpx

from tests.slack.conftest import ALICE, CHANNEL, Harness, sign

PNG = b"\x89PNG\r\n\x1a\n"


async def _mention(harness: Harness, text: str, *, thread_ts: str | None, event_id: str) -> None:
    event = {"type": "app_mention", "user": ALICE, "text": f"<@U0K6BOT> {text}", "channel": CHANNEL, "ts": "1.2"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    payload = {
        "type": "event_callback",
        "team_id": "T0FAKE",
        "api_app_id": "A0K6BOT",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": event,
    }
    body = json.dumps(payload).encode()
    headers = {**sign(body), "Content-Type": "application/json"}
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 200


async def test_chart_run_uploads_the_png_into_the_channel_with_the_current_flow(harness: Harness) -> None:
    response = await harness.command("chart run 1224")
    assert response.status_code == 200
    [answer] = await harness.responses(1)
    [complete] = await harness.wait("files.completeUploadExternal")
    await harness.settle()
    fake = harness.fake
    assert "Chart of test run 1224" in answer.text and "Request rate" in answer.text and "▁" in answer.text
    assert answer.args.get("response_type") == "ephemeral"

    [ask] = fake.successful("files.getUploadURLExternal")
    assert ask.authorized and ask.args["filename"] == "k6-run-1224.png"
    [file_id] = fake.uploads
    png = fake.uploads[file_id]
    assert int(ask.args["length"]) == len(png) and png[:8] == PNG
    assert struct.unpack(">II", png[16:24]) == (1000, 600)
    assert fake.shared[file_id]["channel_id"] == CHANNEL and not fake.shared[file_id]["thread_ts"]
    assert "1224" in str(fake.shared[file_id]["title"])
    assert complete.authorized
    assert [c.method for c in fake.calls if c.method.startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert fake.calls_of("files.upload") == []  # the retired method is never used


async def test_a_chart_asked_for_in_a_thread_goes_into_that_thread(harness: Harness) -> None:
    await _mention(harness, "chart run 1224", thread_ts="1700000000.000300", event_id="EvChart1")
    await harness.wait("files.completeUploadExternal")
    await harness.settle()
    [shared] = harness.fake.shared.values()
    assert shared == {**shared, "channel_id": CHANNEL, "thread_ts": "1700000000.000300"}


async def test_a_run_without_metrics_uploads_nothing(harness: Harness) -> None:
    await harness.command("chart run 1238")
    [answer] = await harness.responses(1)
    await harness.settle()
    assert "No metrics yet" in answer.text
    assert harness.fake.calls_of("files.getUploadURLExternal") == [] and harness.fake.uploads == {}


async def test_an_upload_slack_refuses_is_said_to_the_requester(harness: Harness) -> None:
    harness.fake.fail("files.completeUploadExternal", status=200, error="not_in_channel")
    await harness.command("chart run 1224")
    calls = await harness.responses(2)
    await harness.settle()
    assert "Chart of test run 1224" in calls[0].text
    assert "Could not post k6-run-1224.png" in calls[1].text and calls[1].args.get("response_type") == "ephemeral"
    assert harness.fake.shared == {}


async def test_the_fake_upload_url_checks_the_length_it_was_promised(harness: Harness) -> None:
    """The fake is strict like Slack: bytes that differ from the announced length are refused."""
    async with httpx.AsyncClient(base_url=harness.fake.api_url) as client:
        headers = {"Authorization": "Bearer " + harness.fake.bot_token}
        answer = (
            await client.post("files.getUploadURLExternal", data={"filename": "x.png", "length": "3"}, headers=headers)
        ).json()
        assert answer["ok"] and answer["upload_url"].startswith(harness.fake.base_url)
        assert (await client.post(answer["upload_url"], content=b"four")).status_code == 400
        assert (await client.post(answer["upload_url"], content=b"abc")).status_code == 200
    assert harness.fake.uploads == {answer["file_id"]: b"abc"}
