"""``k6bot slack``: serve the Slack app over HTTP (``POST /slack/events``, ``GET /healthz``) or Socket Mode.

Both modes open the same things — the k6 backend, the database, the Slack front-end and the notifier
(watcher under its lease, outbox sender) — in :func:`slack_runtime`, and close them in reverse order on the
way out. In HTTP mode that is the Starlette lifespan of the app, as in ``k6bot serve``: uvicorn runs its
shutdown on SIGINT or SIGTERM before it returns, so the notifier stops and gives up its lease even when the
process is told to stop by a signal. SIGTERM ends k6bot like Ctrl-C: a clean stop, exit code 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import LISTEN_HOST, BotSettings, SlackSettings
from bot.notify.notifier import Notifier
from bot.notify.webhook import webhook_route
from bot.runtime import Backend, open_backend, terminate_like_interrupt
from bot.slack.app import EVENTS_PATH, Mode, SlackFrontend, build_slack
from bot.store import Store, open_store
from tools.config import K6CloudSettings
from tools.errors import ConfigurationError

log = logging.getLogger("k6bot.slack")


def run_slack(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    mode: str = "socket",
    host: str = LISTEN_HOST,
    port: int = 3000,
) -> None:
    """Run until interrupted (SIGINT or SIGTERM). Raises :class:`ConfigurationError` for missing tokens or a bad mode."""
    mode = mode.strip().lower()
    if mode not in ("http", "socket"):
        raise ConfigurationError(f"Unknown --mode '{mode}': use socket or http.")
    if slack.bot_token is None:
        raise ConfigurationError("SLACK_BOT_TOKEN is not set: copy the app's Bot User OAuth Token (xoxb-…).")
    if mode == "socket" and slack.app_token is None:
        raise ConfigurationError(
            "Socket Mode needs SLACK_APP_TOKEN (an app-level token, xapp-…, with connections:write); "
            "or use --mode http."
        )
    if mode == "http" and slack.signing_secret is None:
        raise ConfigurationError("SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page.")
    with terminate_like_interrupt(), contextlib.suppress(KeyboardInterrupt):
        if mode == "http":
            _serve_http(cloud, bot, slack, host, port)
        else:
            asyncio.run(_serve_socket(cloud, bot, slack))


@dataclass
class SlackRuntime:
    """What a running ``k6bot slack`` is made of."""

    backend: Backend
    store: Store
    frontend: SlackFrontend
    notifier: Notifier


@asynccontextmanager
async def slack_runtime(
    cloud: K6CloudSettings, bot: BotSettings, slack: SlackSettings, *, mode: Mode
) -> AsyncIterator[SlackRuntime]:
    """Open the backend, the database, the Slack front-end and the notifier; close them in reverse order."""
    async with AsyncExitStack() as stack:
        backend = await stack.enter_async_context(open_backend(cloud, demo_speed=bot.demo_speed))
        store = await open_store(bot.sqlalchemy_url)
        stack.push_async_callback(store.close)
        frontend = build_slack(backend, bot, slack, store, mode=mode)
        await frontend.start()
        # Run-finished notifications: the watcher (under its lease) and the outbox sender (bot/notify).
        notifier = Notifier(backend, store, bot=bot, slack=slack)
        await notifier.start()
        stack.push_async_callback(notifier.stop)
        yield SlackRuntime(backend, store, frontend, notifier)
        log.info("k6bot slack is stopping")


def build_http_app(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    on_ready: Callable[[SlackRuntime], None] | None = None,
) -> Starlette:
    """``POST /slack/events``, ``POST /k6/webhook`` and ``GET /healthz``, with everything else in the lifespan."""
    running: list[SlackRuntime] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with slack_runtime(cloud, bot, slack, mode="http") as runtime:
            running.append(runtime)
            if on_ready is not None:
                on_ready(runtime)
            try:
                yield
            finally:
                running.clear()

    async def events(request: Request) -> Response:
        if not running:
            return JSONResponse({"ok": False, "error": "k6bot is starting or stopping"}, status_code=503)
        return await running[0].frontend.events(request)

    async def healthz(_request: Request) -> Response:
        if not running:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "k6": "demo" if running[0].backend.demo else "cloud"})

    webhook, _endpoint = webhook_route(lambda: running[0].notifier if running else None, bot.webhook_secret)
    routes = [
        Route(EVENTS_PATH, events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        webhook,  # POST /k6/webhook
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _serve_http(cloud: K6CloudSettings, bot: BotSettings, slack: SlackSettings, host: str, port: int) -> None:
    import uvicorn

    shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104

    def ready(runtime: SlackRuntime) -> None:
        print(
            f"k6bot Slack app on http://{shown}:{port}{EVENTS_PATH} (health: /healthz), "
            f"on {runtime.backend.description}.",
            file=sys.stderr,
            flush=True,
        )

    app = build_http_app(cloud, bot, slack, on_ready=ready)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    asyncio.run(server.serve())
    if not server.started:
        raise ConfigurationError("k6bot slack could not start (see the log above).")


async def _serve_socket(cloud: K6CloudSettings, bot: BotSettings, slack: SlackSettings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert slack.app_token is not None
    async with slack_runtime(cloud, bot, slack, mode="socket") as runtime:
        handler = AsyncSocketModeHandler(runtime.frontend.bolt, slack.app_token.get_secret_value())
        print(f"k6bot Slack app connected in Socket Mode, on {runtime.backend.description}.", file=sys.stderr)
        try:
            await handler.start_async()
        finally:
            with contextlib.suppress(Exception):
                await handler.close_async()
