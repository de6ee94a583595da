"""``k6bot doctor``: everything a deployment needs, checked for real, one line each with the fix.

✓ works, ⚠ an optional part is off (or something to know), ✗ a configured part is broken — the command exits
with 1 when any line is ✗. Nothing is changed: the database is read, not migrated; Slack is asked
``auth.test`` (whose ``x-oauth-scopes`` header lists the scopes granted); k6 Cloud is asked ``check_auth``.
The addresses come from the same defaults ``k6bot serve`` and ``k6bot slack --mode http`` use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import DEFAULT_HOST, SERVE_PORT, BotSettings, SlackSettings
from bot.logs import secret_values
from bot.mcp.exposure import is_loopback
from bot.preflight import listen_problem, load_policy
from bot.store import DatabaseUnavailable, Store
from tools.config import K6CloudSettings, SettingsError
from tools.errors import K6BotError

MANIFEST_BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "usergroups:read",
    "app_mentions:read",
    "files:write",
)
"""The bot scopes manifest.yaml asks for (a test keeps the two equal)."""
SHORT_SECRET = 16
"""Shared secrets shorter than this are easy to guess (``openssl rand -hex 24`` makes 48 characters)."""
TIMEOUT_SECONDS = 10.0


class Mark(Enum):
    OK = "✓"
    WARN = "⚠"
    FAIL = "✗"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, what was found and, when it is not ✓, what to do."""

    mark: Mark
    subject: str
    text: str

    @property
    def failed(self) -> bool:
        return self.mark is Mark.FAIL

    def line(self) -> str:
        return f"{self.mark.value} {self.subject}: {self.text}"


def ok(subject: str, text: str) -> Check:
    return Check(Mark.OK, subject, text)


def warn(subject: str, text: str) -> Check:
    return Check(Mark.WARN, subject, text)


def fail(subject: str, text: str) -> Check:
    return Check(Mark.FAIL, subject, text)


@dataclass
class Doctor:
    """The checks, on settings read once (a group that does not validate is reported and its checks skipped)."""

    cloud: K6CloudSettings | None
    bot: BotSettings | None
    slack: SlackSettings | None
    problems: list[str] = field(default_factory=list)
    slack_mode: Literal["socket", "http"] | None = None
    host: str = DEFAULT_HOST
    port: int = SERVE_PORT
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_environment(
        cls, *, slack_mode: str | None = None, host: str = DEFAULT_HOST, port: int = SERVE_PORT
    ) -> Doctor:
        problems: list[str] = []

        def load(settings: Callable[[], Any]) -> Any:
            try:
                return settings()
            except SettingsError as exc:
                problems.extend(exc.problems)
                return None

        mode = (slack_mode or "").strip().lower() or None
        if mode not in (None, "socket", "http"):
            problems.append(f"--slack-mode must be socket or http, got {slack_mode!r}")
            mode = None
        return cls(
            cloud=load(K6CloudSettings),
            bot=load(BotSettings),
            slack=load(SlackSettings),
            problems=problems,
            slack_mode=mode,  # type: ignore[arg-type]
            host=host,
            port=port,
        )

    def secrets(self) -> list[str]:
        """Every secret value in the settings, for the log scrubber."""
        return secret_values(
            self.cloud.token if self.cloud else None,
            self.bot.mcp_token if self.bot else None,
            self.bot.webhook_secret if self.bot else None,
            self.slack.bot_token if self.slack else None,
            self.slack.signing_secret if self.slack else None,
            self.slack.app_token if self.slack else None,
        )

    @property
    def mode(self) -> Literal["socket", "http"]:
        """How Slack is served: as asked, else Socket Mode when there is an app-level token, else HTTP."""
        if self.slack_mode is not None:
            return self.slack_mode
        return "socket" if self.slack is not None and self.slack.app_token is not None else "http"

    async def run(self) -> list[Check]:
        """Every check, in report order (the network ones run at once)."""
        found = [fail("configuration", problem) for problem in self.problems]
        groups = await asyncio.gather(self.k6(), self.slack_checks(), self.database())
        for group in groups:
            found += group
        found += self.policy() + self.webhook() + self.listening() + self.mcp()
        return found

    async def _within(self, work: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(work, self.timeout + 5)

    # ------------------------------------------------------------------ k6 Cloud

    async def k6(self) -> list[Check]:
        subject = "k6 Cloud"
        cloud = self.cloud
        if cloud is None:
            return []
        if cloud.token is None:
            return [
                warn(
                    subject,
                    "demo mode: K6_CLOUD_TOKEN is not set, so k6bot runs on its built-in simulator. "
                    "Set K6_CLOUD_TOKEN and K6_CLOUD_STACK_ID to use your stack.",
                )
            ]
        if cloud.stack_id is None and not cloud.stack_url:
            return [
                fail(
                    subject,
                    "K6_CLOUD_STACK_ID is not set (nor K6_CLOUD_STACK_URL): set the numeric Grafana stack id, "
                    "or the stack's URL such as https://mystack.grafana.net.",
                )
            ]
        from tools.client import K6CloudClient
        from tools.registry import Toolbox

        quick = cloud.model_copy(update={"max_retries": min(cloud.max_retries, 1), "timeout": self.timeout})
        try:
            async with K6CloudClient(quick, backoff_base=0.2, backoff_max=1.0, max_retry_after=2.0) as client:
                result = await self._within(Toolbox(client).execute("check_auth", {}))
        except K6BotError as exc:
            return [fail(subject, f"{cloud.api_url}: {exc}")]
        except TimeoutError:
            return [fail(subject, f"{cloud.api_url} did not answer in time. Check K6_CLOUD_API_URL and the network.")]
        return [ok(subject, str(getattr(result, "message", result)))]

    # ------------------------------------------------------------------ Slack

    async def slack_checks(self) -> list[Check]:
        slack = self.slack
        if slack is None:
            return []
        if slack.bot_token is None:
            if slack.signing_secret is None and slack.app_token is None:
                return [
                    warn(
                        "Slack",
                        "off: SLACK_BOT_TOKEN is not set (the Slack app and run-finished notifications need it).",
                    )
                ]
            return [fail("Slack bot token", slack.bot_token_problem() or "")]
        found = [*await self.bot_token()]
        if self.mode == "socket":
            problem = slack.app_token_problem()
            found.append(
                fail("Slack app token", problem)
                if problem
                else ok("Slack app token", "SLACK_APP_TOKEN is an app-level token (xapp-…), for Socket Mode.")
            )
        else:
            problem = slack.signing_secret_problem()
            found.append(
                fail("Slack signing secret", f"{problem} HTTP mode needs it to verify every request from Slack.")
                if problem
                else ok("Slack signing secret", "set (HTTP mode verifies every request from Slack with it).")
            )
        return found

    async def bot_token(self) -> list[Check]:
        """``auth.test`` with the bot token, and the scopes Slack says it granted against the manifest's."""
        assert self.slack is not None and self.slack.bot_token is not None
        subject = "Slack bot token"
        problem = self.slack.bot_token_problem()
        if problem:
            return [fail(subject, problem)]
        api_url = self.slack.api_url
        client = AsyncWebClient(
            token=self.slack.bot_token.get_secret_value(),
            base_url=api_url,
            timeout=int(self.timeout),
            retry_handlers=[],
        )
        try:
            answer = await self._within(client.auth_test())
        except SlackApiError as exc:
            error = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            return [
                fail(
                    subject,
                    f"Slack refused it ({error}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, "
                    "and reinstall the app if it was revoked.",
                )
            ]
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return [fail(subject, f"cannot reach Slack at {api_url} ({type(exc).__name__}). Check SLACK_API_URL.")]
        who = f"signed in as {answer.get('user')} in team {answer.get('team')}"
        header = next((v for k, v in (answer.headers or {}).items() if k.lower() == "x-oauth-scopes"), None)
        if header is None:
            return [ok(subject, f"{who}."), warn("Slack scopes", "Slack did not say which scopes it granted.")]
        granted = {s.strip() for s in str(header).split(",") if s.strip()}
        missing = [s for s in MANIFEST_BOT_SCOPES if s not in granted]
        if missing:
            return [
                ok(subject, f"{who}."),
                fail(
                    "Slack scopes",
                    f"missing {', '.join(missing)} (manifest.yaml asks for them): add them under OAuth & "
                    "Permissions → Scopes, then reinstall the app.",
                ),
            ]
        return [ok(subject, f"{who}; every scope manifest.yaml asks for is granted.")]

    # ------------------------------------------------------------------ database

    async def database(self) -> list[Check]:
        if self.bot is None:
            return []
        subject = "database"
        try:
            store = Store(self.bot.sqlalchemy_url)
        except DatabaseUnavailable as exc:
            return [fail(subject, str(exc))]
        try:
            store.check_directory()
            path = store.sqlite_path
            if path is not None and not path.exists():
                if not os.access(path.parent, os.W_OK):
                    return [
                        fail(subject, f"cannot create {path}: {path.parent} is not writable. Check K6BOT_DATABASE_URL.")
                    ]
                return [ok(subject, f"{store.shown_url} does not exist yet: k6bot creates it at start.")]
            state = await self._within(store.schema())
        except DatabaseUnavailable as exc:
            return [fail(subject, str(exc))]
        except TimeoutError:
            return [fail(subject, f"{store.shown_url} did not answer in time. Check K6BOT_DATABASE_URL.")]
        finally:
            with contextlib.suppress(Exception):
                await store.close()
        where = store.shown_url
        if state.at_head:
            return [ok(subject, f"{where}: {state.describe()}.")]
        if not state.known or (state.current is None and state.legacy_version is None and state.has_tables):
            return [fail(subject, f"{where}: {state.describe()}. Point K6BOT_DATABASE_URL at k6bot's database.")]
        if state.current is None and not state.has_tables:
            return [ok(subject, f"{where}: empty; k6bot creates its tables at start.")]
        return [warn(subject, f"{where}: {state.describe()}. k6bot upgrades it at start, or run `k6bot db upgrade`.")]

    # ------------------------------------------------------------------ the rest, from the settings alone

    def policy(self) -> list[Check]:
        if self.bot is None:
            return []
        if self.bot.policy_file is None:
            return [
                ok(
                    "policy",
                    "the defaults (no K6BOT_POLICY_FILE): in Slack everyone may read, run and stop tests, with "
                    "confirmation, and nobody may use admin operations.",
                )
            ]
        try:
            load_policy(self.bot)
        except K6BotError as exc:
            return [fail("policy", " ".join(str(exc).split()))]
        return [ok("policy", f"{self.bot.policy_file} reads.")]

    def webhook(self) -> list[Check]:
        if self.bot is None:
            return []
        subject = "webhook"
        secret = self.bot.webhook_secret
        if secret is None:
            return [
                warn(
                    subject,
                    "off: set K6BOT_WEBHOOK_SECRET to let k6 Cloud tell k6bot when a run ends (POST /k6/webhook).",
                )
            ]
        if self.slack is not None and self.slack.bot_token is None:
            return [warn(subject, "K6BOT_WEBHOOK_SECRET is set, but without SLACK_BOT_TOKEN there is nobody to tell.")]
        if len(secret.get_secret_value()) < SHORT_SECRET:
            return [
                warn(
                    subject,
                    f"K6BOT_WEBHOOK_SECRET is short: use {SHORT_SECRET}+ random characters (openssl rand -hex 24).",
                )
            ]
        return [ok(subject, "on (POST /k6/webhook, K6BOT_WEBHOOK_SECRET set).")]

    def listening(self) -> list[Check]:
        subject = "listen"
        where = f"{self.host}:{self.port}"
        problem = listen_problem(self.host, self.port)
        if problem and "in use" in problem:
            return [warn(subject, f"{problem} (Is k6bot already running there?)")]
        if problem:
            return [fail(subject, problem)]
        if is_loopback(self.host):
            note = f"k6bot serve will listen on {where}: this machine only."
            if self.slack is not None and self.slack.bot_token is not None and self.mode == "http":
                return [
                    warn(
                        subject,
                        f"{note} Slack and k6 Cloud cannot reach it unless a reverse proxy here forwards to it; "
                        "or pass --host 0.0.0.0.",
                    )
                ]
            return [ok(subject, f"{note} (--host 0.0.0.0 for every interface)")]
        return [
            ok(
                subject,
                f"k6bot serve will listen on {where}: reachable from the network (/healthz, /metrics, the webhook, "
                "Slack's endpoint and MCP); keep it behind a firewall or a proxy.",
            )
        ]

    def mcp(self) -> list[Check]:
        if self.bot is None:
            return []
        subject = "MCP over HTTP"
        token = self.bot.mcp_token
        if is_loopback(self.host):
            return [ok(subject, f"/mcp on {self.host} (this machine only){'' if token else ': no token needed'}.")]
        if token is None:
            return [
                warn(
                    subject,
                    f"off: /mcp on {self.host} needs K6BOT_MCP_TOKEN (clients then send 'Authorization: Bearer …').",
                )
            ]
        if len(token.get_secret_value()) < SHORT_SECRET:
            return [
                warn(
                    subject, f"K6BOT_MCP_TOKEN is short: use {SHORT_SECRET}+ random characters (openssl rand -hex 24)."
                )
            ]
        return [ok(subject, f"/mcp on {self.host}, bearer token required (K6BOT_MCP_TOKEN).")]


__all__ = ["MANIFEST_BOT_SCOPES", "Check", "Doctor", "Mark"]
