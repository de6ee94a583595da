"""Forged and stale requests are refused before anything happens; nothing secret reaches a message."""

from __future__ import annotations

import time

import pytest

from tests.conftest import TEST_TOKEN
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, Harness, sign


async def _nothing_happened(harness: Harness, api_before: int) -> None:
    await harness.settle()
    assert harness.fake.calls == []
    assert len(harness.sim.requests) == api_before


@pytest.mark.parametrize("text", ["start orders soak test", "list tests"])
async def test_a_forged_signature_is_refused_with_401(harness: Harness, text: str) -> None:
    before = len(harness.sim.requests)
    body = harness.command_body(text)
    headers = sign(body, secret="not-the-secret")
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    await _nothing_happened(harness, before)


async def test_a_body_changed_after_signing_is_refused(harness: Harness) -> None:
    before = len(harness.sim.requests)
    body = harness.command_body("list tests")
    headers = sign(body)
    response = await harness.http.post(
        f"{harness.url}/slack/events", content=body.replace(b"list", b"lost"), headers=headers
    )
    assert response.status_code == 401
    await _nothing_happened(harness, before)


async def test_a_timestamp_older_than_300_seconds_is_refused(harness: Harness) -> None:
    before = len(harness.sim.requests)
    body = harness.command_body("start orders soak test")
    headers = sign(body, timestamp=int(time.time()) - 301)  # correctly signed, but stale
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    await _nothing_happened(harness, before)


async def test_a_forged_click_confirms_nothing(harness: Harness) -> None:
    cid, _ = await harness.preview("start orders soak test")
    calls_before = len(harness.fake.calls)
    body = harness.click_body("k6bot_confirm", cid)
    response = await harness.http.post(f"{harness.url}/slack/events", content=body, headers=sign(body, secret="forged"))
    assert response.status_code == 401
    stale = await harness.http.post(
        f"{harness.url}/slack/events", content=body, headers=sign(body, timestamp=int(time.time()) - 600)
    )
    assert stale.status_code == 401
    await harness.settle()
    assert len(harness.fake.calls) == calls_before
    assert harness.sim.count("POST", r"/cloud/v6/load_tests/\d+/start") == 0


async def test_unsigned_requests_are_refused(harness: Harness) -> None:
    body = harness.command_body("list tests")
    response = await harness.http.post(
        f"{harness.url}/slack/events", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401
    await harness.settle()
    assert harness.fake.calls == []


async def test_health(harness: Harness) -> None:
    response = await harness.http.get(f"{harness.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_no_secret_appears_in_any_message(harness: Harness) -> None:
    for text in ("list tests", "check auth", "start orders soak test", "status of run 1234", "bogus words"):
        await harness.command(text)
    await harness.responses(5)
    await harness.settle()
    everything = " ".join(c.text + str(c.args) for c in harness.fake.calls)
    for secret in (SIGNING_SECRET, BOT_TOKEN, TEST_TOKEN):
        assert secret not in everything


async def test_an_internal_failure_is_a_short_message_not_a_traceback(harness: Harness, monkeypatch) -> None:
    async def broken(*args, **kwargs):
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(harness.frontend.dispatcher, "handle_text", broken)
    await harness.command("list tests")
    calls = await harness.responses(1)
    assert "went wrong" in calls[0].text
    assert "boom" not in calls[0].text and "Traceback" not in calls[0].text
