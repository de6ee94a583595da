"""``k6bot slack``: serve the Slack app over HTTP (``POST /slack/events``, ``GET /healthz``) or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from bot.config import BotSettings, SlackSettings
from bot.notify.notifier import Notifier
from bot.notify.webhook import webhook_route
from bot.runtime import open_backend
from bot.slack.app import EVENTS_PATH, build_slack
from bot.store import open_store
from tools.config import K6CloudSettings
from tools.errors import ConfigurationError

log = logging.getLogger("k6bot.slack")


def run_slack(
    cloud: K6CloudSettings,
    bot: BotSettings,
    slack: SlackSettings,
    *,
    mode: str = "socket",
    host: str = "0.0.0.0",  # noqa: S104 - Slack must reach it
    port: int = 3000,
) -> None:
    """Run until interrupted. Raises :class:`ConfigurationError` for missing tokens or a bad mode."""
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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(cloud, bot, slack, mode=mode, host=host, port=port))


async def _serve(cloud: K6CloudSettings, bot: BotSettings, slack: SlackSettings, *, mode: str, host: str, port: int):
    async with open_backend(cloud, demo_speed=bot.demo_speed) as backend:
        store = await open_store(bot.sqlalchemy_url)
        try:
            frontend = build_slack(backend, bot, slack, store, mode="http" if mode == "http" else "socket")
            await frontend.start()
            # Run-finished notifications: the watcher (under its lease) and the outbox sender (bot/notify).
            notifier = Notifier(backend, store, bot=bot, slack=slack)
            await notifier.start()
            try:
                if mode == "http":
                    app = frontend.asgi_app()
                    app.router.routes.append(webhook_route(notifier, bot.webhook_secret)[0])  # POST /k6/webhook
                    await _serve_http(app, host, port, backend.description)
                else:
                    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                    assert slack.app_token is not None
                    handler = AsyncSocketModeHandler(frontend.bolt, slack.app_token.get_secret_value())
                    print(f"k6bot Slack app connected in Socket Mode, on {backend.description}.", file=sys.stderr)
                    await handler.start_async()
            finally:
                await notifier.stop()
        finally:
            await store.close()


async def _serve_http(app, host: str, port: int, description: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104
    print(
        f"k6bot Slack app on http://{shown}:{port}{EVENTS_PATH} (health: /healthz), on {description}.",
        file=sys.stderr,
        flush=True,
    )
    await server.serve()
