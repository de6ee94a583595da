"""``POST /k6/webhook``: Grafana Cloud k6's custom-webhook notifications make the watcher look at a run now.

Set up in Grafana Cloud k6 (Testing & synthetics → Performance → Settings → Notifications → Custom
webhook): URL ``https://<k6bot>/k6/webhook``, the events you want (``test.finished.*`` at least), and the
shared secret ``K6BOT_WEBHOOK_SECRET`` either as a header ``Authorization: Bearer <secret>`` /
``X-k6bot-Secret: <secret>`` or in the URL (``…/k6/webhook?secret=<secret>``, also ``?token=``). The
default template's JSON works as it is: k6bot reads the run id from ``test.id`` (also ``test_run_id``,
``test_run.id``, ``run.id``, ``run_id``, or a ``/runs/<id>`` link in ``test.url``).

Wrong or missing secret → 401 and nothing happens; no ``K6BOT_WEBHOOK_SECRET`` configured → 503 (the
webhook is off). A good request is answered 202 at once and the run is checked in the background with
the same logic as a poll, so a notification can never be sent twice because of a webhook; polling stays
the fallback for webhooks that never arrive.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.http_body import BodyTooLarge, read_body, too_large_response
from bot.logs import RateLimitedLog
from bot.notify import metrics

if TYPE_CHECKING:
    from bot.notify.notifier import Notifier

log = logging.getLogger("k6bot.notify.webhook")

WEBHOOK_PATH = "/k6/webhook"
MAX_BODY = 256 * 1024
_RUN_URL = re.compile(r"/runs/(\d+)")


def presented_secret(request: Request) -> str | None:
    """The secret the caller sent: Bearer token, X-k6bot-Secret header, or ?secret= / ?token=."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    header = request.headers.get("x-k6bot-secret")
    if header:
        return header.strip()
    for name in ("secret", "token"):
        value = request.query_params.get(name)
        if value:
            return value
    return None


def secret_matches(expected: str, presented: str | None) -> bool:
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def run_id_of(body: Any) -> int | None:
    """The test run id in a custom-webhook body (Grafana's template: ``test.id``), tolerating variations."""
    if not isinstance(body, dict):
        return None
    raw_test = body.get("test")
    test: dict[str, Any] = raw_test if isinstance(raw_test, dict) else {}
    candidates: list[Any] = [
        test.get("id"),
        test.get("test_run_id"),
        body.get("test_run_id"),
        body.get("run_id"),
    ]
    for key in ("test_run", "run", "testRun"):
        nested = body.get(key)
        if isinstance(nested, dict):
            candidates.append(nested.get("id"))
    for value in candidates:
        found = _as_int(value)
        if found is not None:
            return found
    for url in (test.get("url"), body.get("url"), body.get("test_run_url")):
        if isinstance(url, str) and (match := _RUN_URL.search(url)):
            return int(match.group(1))
    return None


class WebhookEndpoint:
    """The ASGI handler; ``notifier`` may be a callable returning the (possibly not yet started) notifier."""

    def __init__(self, notifier: Notifier | Callable[[], Notifier | None] | None, secret: SecretStr | str | None):
        self._notifier = notifier
        self._secret = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refusals = RateLimitedLog(log)  # anyone can call the webhook: one line a minute per reason

    def notifier(self) -> Notifier | None:
        if self._notifier is None:
            return None
        if callable(self._notifier) and not hasattr(self._notifier, "check_run"):
            return self._notifier()
        return self._notifier  # type: ignore[return-value]

    async def handle(self, request: Request) -> Response:
        if not self._secret:
            metrics.WEBHOOKS.labels("disabled").inc()
            return JSONResponse(
                {"ok": False, "error": "The webhook is off: set K6BOT_WEBHOOK_SECRET to accept k6 notifications."},
                status_code=503,
            )
        if not secret_matches(self._secret, presented_secret(request)):
            metrics.WEBHOOKS.labels("unauthorized").inc()
            self._refusals.warning(
                "unauthorized",
                "Webhook call with a wrong or missing secret from %s",
                request.client.host if request.client else "?",
            )
            return JSONResponse(
                {"ok": False, "error": "Wrong or missing webhook secret."},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="k6bot webhook"'},
            )
        try:
            raw = await read_body(request, MAX_BODY)
        except BodyTooLarge:
            metrics.WEBHOOKS.labels("too_large").inc()
            return too_large_response(MAX_BODY)
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            metrics.WEBHOOKS.labels("bad_request").inc()
            return JSONResponse({"ok": False, "error": "The body is not JSON."}, status_code=400)
        run_id = run_id_of(body)
        event = request.headers.get("x-k6cloud-event") or _event_of(body)
        if run_id is None:
            metrics.WEBHOOKS.labels("no_run").inc()
            return JSONResponse(
                {"ok": False, "error": "No test run id in the body (expected test.id, as Grafana's template sends)."},
                status_code=400,
            )
        notifier = self.notifier()
        if notifier is None:
            metrics.WEBHOOKS.labels("no_notifier").inc()
            return JSONResponse(
                {
                    "ok": False,
                    "error": "The webhook is off: set SLACK_BOT_TOKEN, there is nowhere to post notifications.",
                },
                status_code=503,
            )
        log.info(
            "Webhook %s for run %d (request %s)", event or "event", run_id, request.headers.get("x-k6cloud-id", "-")
        )
        task = asyncio.create_task(self._check(notifier, run_id), name=f"k6bot-webhook-{run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        metrics.WEBHOOKS.labels("accepted").inc()
        return JSONResponse({"ok": True, "run_id": run_id, "event": event}, status_code=202)

    @staticmethod
    async def _check(notifier: Notifier, run_id: int) -> None:
        try:
            await notifier.check_run(run_id)
        except Exception as exc:
            log.warning("Checking run %d after a webhook failed (%s); the next poll will see it", run_id, exc)

    async def drain(self) -> None:
        """Wait for the checks in flight (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _event_of(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("event"), dict):
        value = body["event"].get("type")
        return str(value) if value else None
    return None


def webhook_route(
    notifier: Notifier | Callable[[], Notifier | None] | None, secret: SecretStr | str | None
) -> tuple[Route, WebhookEndpoint]:
    """The Starlette route for ``POST /k6/webhook`` and its endpoint object."""
    endpoint = WebhookEndpoint(notifier, secret)
    return Route(WEBHOOK_PATH, endpoint.handle, methods=["POST"]), endpoint
