"""The Slack front-end, built once and served over HTTP (``POST /slack/events``) or Socket Mode.

``build_slack(backend, bot_settings, slack_settings, store)`` returns a :class:`SlackFrontend`: its
``bolt`` is the slack-bolt ``AsyncApp``; ``routes()`` are the Starlette routes to mount in any ASGI app
(``k6bot serve`` mounts them next to MCP); ``asgi_app()`` is a complete app with ``GET /healthz`` too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from bot.actions import Actions
from bot.audit import AuditLog
from bot.config import BotSettings, SlackSettings
from bot.confirm import Confirmations
from bot.http_body import too_large_response
from bot.logs import RateLimitedLog
from bot.notify.outbox import make_slack_client
from bot.notify.subscriptions import Subscriptions
from bot.notify.watchlist import Watchlist
from bot.policy import Policy
from bot.router.dispatch import Dispatcher
from bot.runtime import Backend
from bot.scrub import remember_settings
from bot.slack.dedupe import RecentRequests
from bot.slack.followup import FollowUps
from bot.slack.handlers import SlackHandlers
from bot.slack.identity import Identity
from bot.slack.inbound import MAX_BODY_BYTES, MalformedRequest, check_body, signature_problem
from bot.slack.intake import Disconnected, Priority, TooLarge, ack_headers, read_limited, send_answer
from bot.slack.webclient import ScrubbingWebClient
from bot.store import Store
from tools.client import BEFORE_READING
from tools.errors import ConfigurationError

log = logging.getLogger("k6bot.slack")

_REFUSALS = {
    "unsigned": "no Slack signature",
    "stale": "timestamp missing or more than 5 minutes away",
    "bad_signature": "signature does not match",
}

_INVALID_SIGNATURE = b'{"ok":false,"error":"invalid signature"}'
_BUSY = b'{"ok":false,"error":"busy"}'
Mode = Literal["http", "socket"]
EVENTS_PATH = "/slack/events"
EARLY_ACK = frozenset({"command", "block_actions"})
"""Request kinds acknowledged before bolt runs (their answers never travel in the acknowledgement)."""
MAX_HANDLING = 64
"""Slack requests handled at once after their early acknowledgement; more wait their turn (answers through
response_url stay valid for 30 minutes)."""
MAX_QUEUED = 5000
"""Requests acknowledged early and not yet handled, at most; beyond, a command is refused with a 503 before its
acknowledgement (Slack tells the user it failed) instead of piling up in memory."""
REFUSAL_LOG_EVERY = 60.0
"""Seconds between two log lines about refused requests of the same kind (junk must not flood the log)."""

__all__ = ["EVENTS_PATH", "MAX_BODY_BYTES", "SlackFrontend", "build_slack"]


@dataclass
class SlackFrontend:
    """Everything the Slack app is made of, for serving and for tests."""

    bolt: AsyncApp
    client: AsyncWebClient
    actions: Actions
    dispatcher: Dispatcher
    identity: Identity
    handlers: SlackHandlers
    backend: Backend
    store: Store
    bot_token: str
    signing_secret: str | None = field(default=None, repr=False)
    bot_user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    refusals: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(log, every=REFUSAL_LOG_EVERY), repr=False)
    _background: set[asyncio.Future[BoltResponse]] = field(default_factory=set, repr=False)
    max_queued: int = MAX_QUEUED
    priority: Priority = field(default_factory=Priority, repr=False)
    """Background work waits for acknowledgements (:mod:`bot.slack.intake`)."""
    _slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_HANDLING), repr=False)
    """Requests acknowledged early and still being handled (held so the tasks are not collected)."""

    async def start(self) -> None:
        """Learn the bot's own ids from ``auth.test`` (best effort: the app works without them), then finish,
        in the background, the confirmed clicks a crash of the previous k6bot left open."""
        try:
            answer = await self.client.auth_test()
        except Exception as exc:
            log.warning("auth.test failed (%s); continuing without the bot's user id", type(exc).__name__)
        else:
            self.bot_user_id = answer.get("user_id")
            self.bot_id = answer.get("bot_id")
            self.team_id = answer.get("team_id")
            log.info("Slack: signed in as %s in team %s", answer.get("user"), answer.get("team"))
        await self.handlers.followups.start_recovery(self.actions, self.client)

    def authorize_result(
        self, enterprise_id: str | None = None, team_id: str | None = None, user_id: str | None = None
    ) -> AuthorizeResult:
        """One workspace, one bot token; no ``auth.test`` per request."""
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or self.team_id,
            bot_token=self.bot_token,
            bot_user_id=self.bot_user_id,
            bot_id=self.bot_id,
            user_id=user_id,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /slack/events`` as a bare ASGI app: slash commands, interactivity and events.

        Size first (413, the body unread), then the signature (401), then the shape (400), each refusal
        with one rate-limited log line; only then bolt, which checks the signature once more. Slash commands and
        button clicks are acknowledged (an empty 200) before bolt runs, which then handles them in the background
        (at most ``MAX_HANDLING`` at once, each step when acknowledgements leave it a turn: :mod:`bot.slack.intake`);
        events (``url_verification`` answers a challenge) go through bolt first.
        """
        if scope["type"] != "http":
            return
        if scope.get("method") != "POST":
            await send_answer(send, 405, b"Method Not Allowed", content_type="text/plain", extra=((b"allow", b"POST"),))
            return
        client = scope.get("client")
        where = str(client[0]) if client else "?"
        with self.priority.acknowledging():
            try:
                body = await read_limited(scope, receive, MAX_BODY_BYTES)
            except TooLarge:
                self.refusals.warning(
                    "too_large", "Refused a Slack request from %s: body over %d bytes (413)", where, MAX_BODY_BYTES
                )
                await too_large_response(MAX_BODY_BYTES)(scope, receive, send)
                return
            except Disconnected:
                return
            headers = ack_headers(scope)
            if self.signing_secret is not None:
                problem = signature_problem(self.signing_secret, headers, body)
                if problem is not None:
                    self.refusals.warning(
                        problem, "Refused a Slack request from %s: %s (401)", where, _REFUSALS[problem]
                    )
                    await send_answer(send, 401, _INVALID_SIGNATURE, content_type="application/json")
                    return
            try:
                kind = check_body(body, headers.get("content-type"))
            except MalformedRequest as exc:
                await self._malformed(where, exc.reason)(scope, receive, send)
                return
            query = bytes(scope.get("query_string", b"")).decode("latin-1")
            if kind in EARLY_ACK and self.signing_secret is not None:
                # Signed and well formed: acknowledge now and let bolt run its middleware and the listener beside
                # the answer. k6bot's acknowledgements are empty (it answers through response_url and the Web
                # API), and a burst of commands must not make Slack's 3-second deadline wait behind bolt's work.
                if len(self._background) >= self.max_queued:
                    self.refusals.warning(
                        "busy",
                        "Refused a Slack request from %s: %d waiting to be handled (503)",
                        where,
                        self.max_queued,
                    )
                    await send_answer(send, 503, _BUSY, content_type="application/json")
                    return
                await send_answer(send, 200)
                self._in_background(body, query, headers, where)
                return
        try:
            answer = await self.bolt.async_dispatch(_bolt_request(body, query, headers))
        except Exception as exc:  # signed, shaped like Slack's, and still beyond bolt: not something Slack sends
            await self._malformed(where, f"bolt could not read it ({type(exc).__name__})")(scope, receive, send)
            return
        if answer.status >= 500:
            await self._malformed(where, f"bolt could not process it ({answer.status})")(scope, receive, send)
            return
        await to_starlette_response(answer)(scope, receive, send)

    async def dispatched(self) -> None:
        """Wait until every request acknowledged so far has been through bolt's dispatch (its listener may still
        run in bolt's own task)."""
        while self._background:
            await asyncio.wait(set(self._background))

    def _in_background(self, body: bytes, query: str, headers: dict[str, str], where: str) -> None:
        async def bounded() -> BoltResponse:
            async with self._slots:  # a burst waits here as a few KB each, not as hundreds of live handlers
                await self.priority.turn()
                # bolt's listener task inherits this context: its k6 API answers are read in turns too
                BEFORE_READING.set(self.priority.turn)
                request = _bolt_request(body, query, headers)
                return await self.bolt.async_dispatch(request)

        task = asyncio.ensure_future(bounded())
        self._background.add(task)

        def done(finished: asyncio.Future[BoltResponse]) -> None:
            self._background.discard(task)
            if finished.cancelled():
                return
            failure = finished.exception()
            if failure is not None:
                log.warning("A Slack request from %s failed after its ack: %s", where, type(failure).__name__)
            elif finished.result().status >= 400:
                log.warning(
                    "Bolt answered a Slack request from %s with %d after its ack", where, finished.result().status
                )

        task.add_done_callback(done)

    def _malformed(self, where: str, reason: str) -> Response:
        self.refusals.warning("malformed", "Refused a signed Slack request from %s: %s (400)", where, reason)
        return JSONResponse({"ok": False, "error": "malformed request"}, status_code=400)

    def routes(self, path: str = EVENTS_PATH) -> list[BaseRoute]:
        """The Slack endpoint, to mount in any Starlette app."""
        return [Route(path, self, methods=["POST"])]

    def asgi_app(self) -> Starlette:
        """``POST /slack/events`` and ``GET /healthz``."""

        async def healthz(_request: Request) -> Response:
            return JSONResponse({"status": "ok", "k6": "demo" if self.backend.demo else "cloud"})

        return Starlette(routes=[*self.routes(), Route("/healthz", healthz, methods=["GET"])])


def _bolt_request(body: bytes, query: str, headers: dict[str, str]) -> AsyncBoltRequest:
    as_bolt_reads: dict[str, str | Sequence[str]] = dict(headers)
    return AsyncBoltRequest(body=body.decode("utf-8"), query=query, headers=as_bolt_reads)


def _web_client(api_url: str, token: str | None) -> AsyncWebClient:
    return ScrubbingWebClient(
        token=token,
        base_url=api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
        logger=logging.getLogger("k6bot.slack.web"),
    )


def _authorize_with(frontend: SlackFrontend) -> Callable[..., Awaitable[AuthorizeResult]]:
    # bolt passes arguments by parameter name, so this is a plain function, not a bound method
    async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return frontend.authorize_result(enterprise_id, team_id, user_id)

    return authorize


def _own_client(frontend: SlackFrontend) -> Callable[..., Awaitable[None]]:
    """Bolt middleware: listeners send with the front-end's scrubbing client, not bolt's per-request copy."""

    async def use_own_client(context: Any, next: Callable[[], Awaitable[None]]) -> None:
        context["client"] = frontend.client
        await next()

    return use_own_client


def build_slack(
    backend: Backend,
    bot_settings: BotSettings,
    slack_settings: SlackSettings,
    store: Store,
    *,
    mode: Mode = "http",
    actions: Actions | None = None,
    policy: Policy | None = None,
    confirmations: Confirmations | None = None,
) -> SlackFrontend:
    """The Slack app on ``backend`` with the policy, confirmations and audit log in ``store``.

    Pass ``actions`` to share one :class:`Actions` with other front-ends of the same process.
    """
    if slack_settings.bot_token is None:
        raise ConfigurationError("SLACK_BOT_TOKEN is not set: copy the app's Bot User OAuth Token (xoxb-…).")
    if mode == "http" and slack_settings.signing_secret is None:
        raise ConfigurationError("SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page.")
    bot_token = slack_settings.bot_token.get_secret_value()
    remember_settings(slack_settings, bot_settings, getattr(backend.client, "settings", None))
    if actions is None:
        policy = policy or Policy.load(bot_settings.policy_file, read_only=bot_settings.read_only)
        confirmations = confirmations or Confirmations(store, ttl_seconds=bot_settings.confirm_ttl_seconds)
        actions = Actions(backend.toolbox, policy=policy, confirmations=confirmations, audit=AuditLog(store))
    client = _web_client(slack_settings.api_url, bot_token)
    watchlist = Watchlist(store)
    priority = Priority()
    dispatcher = Dispatcher(
        actions,
        subscriptions=Subscriptions(store),
        audit=actions.audit,
        watchlist=watchlist,
        tz=bot_settings.tzinfo,
        pause=priority.turn,
    )
    identity = Identity(client, actions.policy)
    followups = FollowUps(
        store,
        actions.confirmations,
        watchlist,
        make_slack_client(bot_token, slack_settings.api_url),
        grace_seconds=bot_settings.intent_grace_seconds,
    )
    handlers = SlackHandlers(
        dispatcher=dispatcher,
        identity=identity,
        watchlist=watchlist,
        confirmations=actions.confirmations,
        followups=followups,
        recent=RecentRequests(),
    )
    frontend = SlackFrontend(
        bolt=None,  # type: ignore[arg-type] # set below: bolt needs the frontend's authorize
        client=client,
        actions=actions,
        dispatcher=dispatcher,
        identity=identity,
        handlers=handlers,
        backend=backend,
        store=store,
        bot_token=bot_token,
        priority=priority,
    )
    secret = slack_settings.signing_secret.get_secret_value() if slack_settings.signing_secret else None
    frontend.signing_secret = secret if mode == "http" else None
    frontend.bolt = AsyncApp(
        name="k6bot",  # without a name bolt calls inspect.stack(), reading every caller's source (~1 MiB kept)
        client=_web_client(slack_settings.api_url, None),  # each request's client gets the token from authorize
        signing_secret=secret,
        authorize=_authorize_with(frontend),
        process_before_response=False,
        request_verification_enabled=mode == "http",
        ignoring_self_events_enabled=True,
        logger=logging.getLogger("k6bot.slack.bolt"),
    )
    frontend.bolt.middleware(_own_client(frontend))
    handlers.register(frontend.bolt)
    return frontend
