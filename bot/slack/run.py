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

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.config import DEFAULT_HOST, SLACK_HTTP_PORT, BotSettings, SlackSettings
from bot.logs import without_tracebacks
from bot.notify.notifier import Notifier
from bot.notify.outbox import TRANSIENT_ERRORS
from bot.notify.webhook import webhook_route
from bot.runtime import Backend, freeze_startup_heap, open_backend, terminate_like_interrupt
from bot.slack.app import EVENTS_PATH, Mode, SlackFrontend, build_slack
from bot.store import Store, open_store
from tools.config import K6CloudSettings
from tools.errors import ConfigurationError
from tools.retry import Backoff, Failure, Sleep, parse_retry_after, retrying

log = logging.getLogger("k6bot.slack")


SOCKET_BACKOFF = Backoff(base=1.0, cap=60.0)
"""Waits between attempts to open Socket Mode while Slack cannot be reached (1 s, 2 s, … up to a minute)."""
REFUSED_APP_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "token_expired", "account_inactive"}
)


def check_slack_settings(slack: SlackSettings, mode: str) -> Mode:
    """The mode, when the settings it needs are there and of the right kind; else :class:`ConfigurationError`."""
    mode = mode.strip().lower()
    if mode not in ("http", "socket"):
        raise ConfigurationError(f"Unknown --mode '{mode}': use socket or http.")
    problem = slack.bot_token_problem() or (
        slack.app_token_problem() if mode == "socket" else slack.signing_secret_problem()
    )
    if problem:
        raise ConfigurationError(problem)
    return "socket" if mode == "socket" else "http"


def run_slack(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    mode: str = "socket",
    host: str = DEFAULT_HOST,
    port: int = SLACK_HTTP_PORT,
) -> None:
    """Run until interrupted (SIGINT or SIGTERM). Raises :class:`ConfigurationError` for missing tokens or a bad mode."""
    mode = check_slack_settings(slack, mode)
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

    class Events:  # a bare ASGI app (an instance, so Starlette does not wrap it in a Request)
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if not running:
                answer = JSONResponse({"ok": False, "error": "k6bot is starting or stopping"}, status_code=503)
                await answer(scope, receive, send)
                return
            await running[0].frontend(scope, receive, send)

    async def healthz(_request: Request) -> Response:
        if not running:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "k6": "demo" if running[0].backend.demo else "cloud"})

    webhook, _endpoint = webhook_route(lambda: running[0].notifier if running else None, bot.webhook_secret)
    routes = [
        Route(EVENTS_PATH, Events(), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        webhook,  # POST /k6/webhook
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _serve_http(cloud: K6CloudSettings, bot: BotSettings, slack: SlackSettings, host: str, port: int) -> None:
    import uvicorn

    shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a comparison

    def ready(runtime: SlackRuntime) -> None:
        print(
            f"k6bot Slack app on http://{shown}:{port}{EVENTS_PATH} (health: /healthz), "
            f"on {runtime.backend.description}.",
            file=sys.stderr,
            flush=True,
        )
        freeze_startup_heap()

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
        handler = AsyncSocketModeHandler(
            runtime.frontend.bolt,
            slack.app_token.get_secret_value(),
            logger=without_tracebacks(logging.getLogger("k6bot.slack.socket")),
            web_client=AsyncWebClient(base_url=slack.api_url, retry_handlers=[]),  # retried here, once
        )
        try:
            handler.client.wss_uri = await socket_mode_url(handler.client.web_client, handler.app_token)
            await handler.client.connect()
            print(f"k6bot Slack app connected in Socket Mode, on {runtime.backend.description}.", file=sys.stderr)
            await asyncio.Event().wait()  # until interrupted; the SDK reconnects when Slack drops the socket
        finally:
            with contextlib.suppress(Exception):
                await handler.close_async()


async def socket_mode_url(
    web_client: AsyncWebClient,
    app_token: str,
    *,
    backoff: Backoff = SOCKET_BACKOFF,
    attempts: int | None = None,
    sleep: Sleep | None = None,
) -> str:
    """A WebSocket URL for Socket Mode from ``apps.connections.open``.

    While Slack cannot be reached, or answers 5xx / 429, it asks again with backoff (``Retry-After``
    honoured), one log line per attempt, for ever unless ``attempts`` says otherwise. A refused app token
    is a :class:`ConfigurationError` at once: waiting would not fix it.
    """
    api_url = web_client.base_url

    async def once() -> str:
        try:
            response = await web_client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in REFUSED_APP_TOKEN:
                raise ConfigurationError(
                    f"Slack refused SLACK_APP_TOKEN ({error}): generate an app-level token with "
                    "connections:write under Basic Information → App-Level Tokens."
                ) from None
            wait = parse_retry_after((exc.response.headers or {}).get("Retry-After"))
            transient = exc.response.status_code in (429, 500, 502, 503, 504) or error in TRANSIENT_ERRORS
            raise Failure(exc, may_repeat=transient, possibly_processed=False, retry_after=wait, reason=error) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise Failure(exc, may_repeat=True, possibly_processed=False, reason=type(exc).__name__) from None
        return str(response["url"])

    try:
        async for attempt in retrying(
            attempts=attempts, backoff=backoff, sleep=sleep, log=log, what=f"Socket Mode: Slack at {api_url}"
        ):
            with attempt:
                return await once()
    except Failure as last:
        raise ConfigurationError(
            f"Could not open Socket Mode with Slack at {api_url}: {last.reason}. Check SLACK_API_URL and the network."
        ) from None
    raise AssertionError("the retry loop ends with a URL or an error")  # pragma: no cover
