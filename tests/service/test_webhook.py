"""POST /k6/webhook: a good secret makes the watcher check the run at once; a bad one changes nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette

from bot.notify.notifier import Notifier
from bot.notify.subscriptions import Subscriptions
from bot.notify.webhook import WebhookEndpoint, run_id_of, webhook_route
from bot.store import Store
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import finished_posts
from tools.simulator import Simulator

SECRET = WEBHOOK_SECRET
CHANNEL = "C0LOADTEST"


def grafana_body(run_id: int, event: str = "test.finished.failed") -> dict[str, object]:
    """The shape of Grafana Cloud k6's custom-webhook JSON (default template fields)."""
    return {
        "event": {"id": "f1e2d3", "type": event, "text": "Test finished"},
        "test": {
            "organization_id": 1,
            "project_id": 77,
            "id": run_id,
            "url": f"https://app.k6.io/runs/{run_id}",
            "load_test_id": 502,
            "name": "Orders API Smoke",
            "status": 3,
            "status_text": "Finished",
            "result": 1,
            "result_text": "Failed",
        },
        "user": {"id": 9, "name": "Maria Garcia"},
    }


HEADERS = {"X-k6cloud-ID": "19c5d426-3b4d-43c3-8277-37ad7d457430", "User-Agent": "K6CloudWebHook"}


@pytest.fixture
async def hook(
    make_notifier: Callable[..., Notifier], caplog: pytest.LogCaptureFixture
) -> AsyncIterator[tuple[httpx.AsyncClient, WebhookEndpoint, Notifier]]:
    # This test's own client sends the secret in the URL on purpose and httpx would log that line at INFO;
    # k6bot's logging (bot/logs.py) keeps httpx at WARNING, as it is here, so the secret guard stays strict.
    caplog.set_level(logging.WARNING, logger="httpx")
    notifier = make_notifier(poll_seconds=3600)  # no poll loop: only the webhook can find the run
    route, endpoint = webhook_route(notifier, SECRET)
    app = Starlette(routes=[route])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://k6bot") as client:
        yield client, endpoint, notifier


async def test_good_secret_checks_the_run_at_once(
    frozen_sim: Simulator, store: Store, slack: FakeSlack, hook: tuple[httpx.AsyncClient, WebhookEndpoint, Notifier]
) -> None:
    client, endpoint, notifier = hook
    notifier.watcher.insight = False  # investigate_test_run reads the run again (tests/notify/test_insight.py)
    await Subscriptions(store).subscribe(CHANNEL)
    await notifier.poll_once()  # baseline
    run_id = frozen_sim.start_run(502)["id"]
    frozen_sim.finish_run(run_id, result="failed")
    list_walks = frozen_sim.count("GET", r"/cloud/v6/test_runs")
    response = await client.post(
        "/k6/webhook", json=grafana_body(run_id), headers={**HEADERS, "Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 202
    assert response.json()["run_id"] == run_id
    await endpoint.drain()
    await notifier.send_once()
    assert len(finished_posts(slack, run_id, CHANNEL)) == 1
    assert frozen_sim.count("GET", rf"/cloud/v6/test_runs/{run_id}") == 1  # that one run, no list walk
    assert frozen_sim.count("GET", r"/cloud/v6/test_runs") == list_walks
    # The same event again, and the poll afterwards: still one message.
    again = await client.post("/k6/webhook?secret=" + SECRET, json=grafana_body(run_id))
    assert again.status_code == 202
    await endpoint.drain()
    await notifier.poll_once()
    await notifier.send_once()
    assert len(finished_posts(slack, run_id, CHANNEL)) == 1


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": "Bearer wrong"}, ""),
        ({"X-k6bot-Secret": SECRET + "x"}, ""),
        ({}, "?secret=nope"),
        ({"Authorization": f"Basic {SECRET}"}, ""),
    ],
)
async def test_bad_or_missing_secret_is_401_and_nothing_happens(
    frozen_sim: Simulator,
    store: Store,
    slack: FakeSlack,
    hook: tuple[httpx.AsyncClient, WebhookEndpoint, Notifier],
    headers: dict[str, str],
    query: str,
) -> None:
    client, endpoint, notifier = hook
    await Subscriptions(store).subscribe(CHANNEL)
    await notifier.poll_once()
    run_id = frozen_sim.start_run(502)["id"]
    frozen_sim.finish_run(run_id)
    frozen_sim.clear_requests()
    response = await client.post("/k6/webhook" + query, json=grafana_body(run_id), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    await endpoint.drain()
    await notifier.send_once()
    assert frozen_sim.requests == []  # the API was not asked anything
    assert slack.calls == []
    assert await notifier.outbox.messages() == []


@pytest.mark.parametrize(
    "headers", [{"X-k6bot-Secret": SECRET}, {"Authorization": f"bearer {SECRET}"}], ids=["header", "bearer-lowercase"]
)
async def test_other_ways_to_pass_the_secret(
    frozen_sim: Simulator, hook: tuple[httpx.AsyncClient, WebhookEndpoint, Notifier], headers: dict[str, str]
) -> None:
    client, endpoint, _ = hook
    response = await client.post(
        "/k6/webhook?token=ignored-when-a-header-is-set", json={"test": {"id": 1234}}, headers=headers
    )
    assert response.status_code == 202
    await endpoint.drain()
    token = await client.post(f"/k6/webhook?token={SECRET}", json={"test": {"id": 1234}})
    assert token.status_code == 202
    await endpoint.drain()


async def test_unconfigured_secret_disables_the_webhook(make_notifier: Callable[..., Notifier]) -> None:
    route, _ = webhook_route(make_notifier(), None)
    app = Starlette(routes=[route])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://k6bot") as client:
        response = await client.post("/k6/webhook", json={"test": {"id": 1}}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert "K6BOT_WEBHOOK_SECRET" in response.json()["error"]


async def test_bodies_without_a_run_id_are_rejected(hook: tuple[httpx.AsyncClient, WebhookEndpoint, Notifier]) -> None:
    client, _, _ = hook
    auth = {"Authorization": f"Bearer {SECRET}"}
    assert (await client.post("/k6/webhook", content=b"not json", headers=auth)).status_code == 400
    assert (await client.post("/k6/webhook", json={"test": {"name": "x"}}, headers=auth)).status_code == 400


def test_run_id_variations() -> None:
    assert run_id_of({"test": {"id": 42}}) == 42
    assert run_id_of({"test": {"id": "42"}}) == 42
    assert run_id_of({"test_run_id": 43}) == 43
    assert run_id_of({"test_run": {"id": 44}}) == 44
    assert run_id_of({"test": {"url": "https://app.k6.io/runs/45"}}) == 45
    assert run_id_of({"test": {"url": "https://x.grafana.net/a/k6-app/runs/46"}}) == 46
    assert run_id_of({"test": {"id": True}}) is None
    assert run_id_of([1, 2]) is None
