"""``k6bot serve``: the deployable unit — one process, one port.

* ``POST /slack/events`` — the Slack app over HTTP (slash commands, button clicks, events);
* ``/mcp`` — MCP over streamable HTTP (needs ``K6BOT_MCP_TOKEN`` unless bound to loopback);
* ``POST /k6/webhook`` — Grafana Cloud k6 custom-webhook notifications (needs ``K6BOT_WEBHOOK_SECRET``);
* ``GET /healthz`` — database reachable and the watcher polling (or another replica holding the lease);
* ``GET /metrics`` — Prometheus metrics: commands and tool calls, k6 API and Slack API calls, confirmations,
  polls, transitions, notifications sent / failed / retried and their delay, outbox backlog, lease (README);
* the notifier — the watcher under its lease and the outbox sender (needs ``SLACK_BOT_TOKEN``).

Without ``K6_CLOUD_TOKEN`` everything runs against the built-in simulator (demo mode). Parts whose
settings are missing are switched off with one log line each, so the rest still serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

import bot.metrics  # noqa: F401 - registers the k6 API observer before any request
from bot.config import DEFAULT_HOST, BotSettings, SlackSettings
from bot.confirm import count_pending
from bot.http_body import BodyLimit
from bot.mcp.exposure import check_http_exposure
from bot.notify.notifier import Notifier
from bot.notify.webhook import WEBHOOK_PATH, WebhookEndpoint
from bot.runtime import freeze_startup_heap, full_collections_in_turn, terminate_like_interrupt
from bot.store import Store, open_store
from tools.config import K6CloudSettings
from tools.errors import ConfigurationError

log = logging.getLogger("k6bot.service")

MCP_PREFIX = "/mcp"
SLACK_EVENTS_PATH = "/slack/events"
MCP_MAX_BODY_BYTES = 72 * 1024 * 1024
"""The largest tool argument is a base64 k6 archive of up to 70,000,000 characters, plus JSON-RPC around it."""
MAX_BODY_BYTES = 1024 * 1024
"""Everything else: Slack (512 KiB) and the webhook (256 KiB) check their own, lower limits; GETs need none."""


@dataclass
class ServiceState:
    """What the lifespan opened, for the request handlers."""

    backend: Any = None
    store: Store | None = None
    notifier: Notifier | None = None
    mcp_app: LazyMCP | None = None
    slack_handler: ASGIApp | None = None
    parts: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- child lifespans


@asynccontextmanager
async def asgi_lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run another ASGI app's lifespan (startup before the block, shutdown after), e.g. the MCP app's."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: dict[str, Any]) -> None:
        await from_app.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task: asyncio.Task[None] = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    if started["type"] != "lifespan.startup.complete":
        task.cancel()
        raise RuntimeError(f"a mounted app failed to start: {started.get('message', started['type'])}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(Exception):
            await asyncio.wait_for(from_app.get(), 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


# --------------------------------------------------------------------------- integration points


class LazyMCP:
    """MCP over streamable HTTP at ``/mcp``, built on the first request there.

    The MCP SDK's HTTP side (the SDK, its session manager, sse-starlette, cryptography, opentelemetry, httpx2) is
    ~26 MiB of an idle ``k6bot serve``'s resident memory that a deployment serving only Slack never uses, so ``k6bot serve`` decides at
    start-up whether MCP is served (:func:`bot.mcp.exposure.check_http_exposure`) and imports the SDK — in a
    worker thread, so that Slack acknowledgements do not wait behind the import — when a client first calls.
    The app's lifespan (the session manager) then runs in the service's exit stack, until shutdown.
    """

    def __init__(self, backend: Any, store: Store, bot: BotSettings, host: str, stack: AsyncExitStack) -> None:
        self.backend, self.store, self.bot, self.host, self.stack = backend, store, bot, host, stack
        self.app: ASGIApp | None = None
        self.closed = False
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if app is None:
            try:
                app = await self._start()
            except Exception as exc:
                log.error("MCP at /mcp could not start: %s: %s", type(exc).__name__, exc)
                if scope["type"] == "http":
                    response = JSONResponse({"error": "MCP could not start here (see k6bot's log)."}, status_code=503)
                    await response(scope, receive, send)
                return
        await app(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:
            if self.app is not None:
                return self.app
            if self.closed:
                raise RuntimeError("k6bot serve is stopping")
            for module in ("bot.mcp.server", "bot.mcp.http", "bot.audit"):
                await asyncio.to_thread(importlib.import_module, module)
            from bot.audit import AuditLog
            from bot.mcp import build_http_app, build_server

            bot = self.bot
            server = build_server(
                self.backend.toolbox,
                audit=AuditLog(self.store),
                toolsets=bot.toolsets,
                read_only=bot.read_only,
                demo=self.backend.demo,
                idempotency_window=bot.idempotency_window,
            )
            token = bot.mcp_token.get_secret_value() if bot.mcp_token is not None else None
            app = BodyLimit(
                build_http_app(server, token=token, host=self.host, allowed_hosts=bot.mcp_allowed_host_list),
                MCP_MAX_BODY_BYTES,
            )
            await self.stack.enter_async_context(asgi_lifespan(app))
            log.info("MCP at /mcp started (first request)")
            self.app = app
            return app


def _mcp_app(backend: Any, store: Store, bot: BotSettings, host: str, stack: AsyncExitStack) -> LazyMCP | None:
    """MCP over streamable HTTP, built on first use (:class:`LazyMCP`), or None with the reason logged."""
    token = bot.mcp_token.get_secret_value() if bot.mcp_token is not None else None
    try:
        check_http_exposure(host, token)
    except ConfigurationError as exc:
        log.warning("MCP at /mcp is off: %s", exc)
        return None
    return LazyMCP(backend, store, bot, host, stack)


async def _slack_handler(backend: Any, store: Store, bot: BotSettings, slack: SlackSettings) -> ASGIApp | None:
    """``POST /slack/events`` from the Slack front-end (``bot.slack.app.build_slack``), or None, said why.

    The Slack front-end only records runs it starts in the watchlist; the :class:`Notifier` this service
    runs does the following and the notifying (the Slack front-end never starts one of its own here).
    """
    if slack.bot_token is None or slack.signing_secret is None:
        log.warning("Slack at %s is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET", SLACK_EVENTS_PATH)
        return None
    from bot.slack.app import build_slack

    frontend = build_slack(backend, bot, slack, store, mode="http")
    await frontend.start()
    return frontend  # a bare ASGI app for POST /slack/events (bot.slack.intake)


def _webhook_part(bot: BotSettings, notifier: Notifier | None) -> str:
    """The webhook only makes the watcher look at a run now: without Slack there is nothing to post."""
    if not bot.webhook_secret:
        return "off (no K6BOT_WEBHOOK_SECRET)"
    if notifier is None:
        return "off (no SLACK_BOT_TOKEN: nowhere to post notifications)"
    return "on"


# --------------------------------------------------------------------------- the app


def build_service_app(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    host: str = DEFAULT_HOST,
    notifier_options: dict[str, Any] | None = None,
    freeze_heap: bool = False,
) -> ASGIApp:
    """The whole service as one ASGI app; its lifespan opens the backend, the database and the notifier.

    ``freeze_heap``: once up, move what startup built out of the cyclic collector's reach and run its full passes
    every 30 s in the Slack front-end's turn (:func:`bot.runtime.freeze_startup_heap`,
    :func:`bot.runtime.full_collections_in_turn`; for the process that serves, not for tests that build many apps)."""
    from bot.runtime import open_backend

    state = ServiceState()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            try:
                state.store = await open_store(bot.sqlalchemy_url)
            except Exception as exc:
                scheme = bot.sqlalchemy_url.split("://", 1)[0]
                log.error("Cannot open k6bot's database (%s; K6BOT_DATABASE_URL): %s", scheme, exc)
                raise
            stack.push_async_callback(state.store.close)
            state.backend = await stack.enter_async_context(open_backend(cloud, demo_speed=bot.demo_speed))
            state.parts["k6"] = state.backend.description
            if slack.bot_token is not None:
                state.notifier = Notifier(state.backend, state.store, bot=bot, slack=slack, **(notifier_options or {}))
                await state.notifier.start()
                stack.push_async_callback(state.notifier.stop)
                state.parts["notifications"] = "on"
            else:
                log.warning("Run-finished notifications are off: set SLACK_BOT_TOKEN")
                state.parts["notifications"] = "off (no SLACK_BOT_TOKEN)"
            state.parts["webhook"] = _webhook_part(bot, state.notifier)
            state.mcp_app = _mcp_app(state.backend, state.store, bot, host, stack)
            state.parts["mcp"] = "on" if state.mcp_app is not None else "off"
            state.slack_handler = await _slack_handler(state.backend, state.store, bot, slack)
            state.parts["slack"] = "on" if state.slack_handler is not None else "off"
            if freeze_heap:
                freeze_startup_heap()
                turn = getattr(state.slack_handler, "priority", None)
                await stack.enter_async_context(full_collections_in_turn(turn.turn if turn is not None else None))
            log.info("k6bot serve is up: %s", ", ".join(f"{k}: {v}" for k, v in state.parts.items()))
            try:
                yield
            finally:
                if state.mcp_app is not None:
                    state.mcp_app.closed = True  # a first /mcp request from now on is refused, not started
            log.info("k6bot serve is stopping")

    webhook = WebhookEndpoint(lambda: state.notifier, bot.webhook_secret)

    async def healthz(_request: Request) -> Response:
        return await _healthz(state)

    async def metrics_endpoint(_request: Request) -> Response:
        if state.notifier is not None:
            with contextlib.suppress(Exception):
                await state.notifier.status()  # refreshes the backlog gauge
        if state.store is not None:
            with contextlib.suppress(Exception):
                await count_pending(state.store)  # refreshes the pending confirmations gauge
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def slack_off(_request: Request) -> Response:
        return JSONResponse(
            {"ok": False, "error": "Slack is not configured in this k6bot (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)."},
            status_code=404,
        )

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route(WEBHOOK_PATH, webhook.handle, methods=["POST"]),
        Route(SLACK_EVENTS_PATH, slack_off, methods=["POST"]),  # when Slack is on, _Dispatch sends it there
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = state
    app.state.webhook = webhook
    return _Dispatch(BodyLimit(app, MAX_BODY_BYTES), state)


class _Dispatch:
    """Sends ``/mcp`` to the MCP app (it serves that path itself), ``/slack/events`` straight to the Slack
    front-end (its bare ASGI intake limits and reads the body itself: no Starlette before the acknowledgement)
    and everything else to the service routes."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path == SLACK_EVENTS_PATH and scope["type"] == "http" and self.state.slack_handler is not None:
            await self.state.slack_handler(scope, receive, send)
            return
        if scope["type"] in ("http", "websocket") and (path == MCP_PREFIX or path.startswith(MCP_PREFIX + "/")):
            if self.state.mcp_app is not None:
                await self.state.mcp_app(scope, receive, send)
                return
            response = JSONResponse(
                {"error": "MCP is not served here: set K6BOT_MCP_TOKEN (needed beyond 127.0.0.1)."}, status_code=404
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _healthz(state: ServiceState) -> Response:
    checks: dict[str, Any] = {}
    healthy = True
    if state.store is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    try:
        async with state.store.session() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), 5)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        healthy = False
    if state.notifier is not None:
        try:
            status = await state.notifier.status()
            checks["watcher"] = status
            if not state.notifier.healthy(status):
                healthy = False
        except Exception as exc:
            checks["watcher"] = f"error: {type(exc).__name__}"
            healthy = False
    checks["parts"] = state.parts
    return JSONResponse({"status": "ok" if healthy else "unhealthy", **checks}, status_code=200 if healthy else 503)


def run_service(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    host: str = DEFAULT_HOST,
    port: int = 8080,
) -> None:
    """Serve everything on ``host:port`` until interrupted (SIGINT / SIGTERM stop it cleanly)."""
    import uvicorn

    app = build_service_app(cloud, bot, slack, host=host, freeze_heap=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )
    log.info("k6bot serve listening on http://%s:%d", host, port)
    server = uvicorn.Server(config)
    with terminate_like_interrupt(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve())
    if not server.started:
        raise ConfigurationError("k6bot serve could not start (see the log above).")
