"""Settings of the k6bot front-ends (K6BOT_* and Slack's SLACK_* variables, env and `.env`).

The k6 Cloud connection itself is configured by :class:`tools.config.K6CloudSettings` (K6_CLOUD_*).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from bot.defaults import DEFAULT_HOST as DEFAULT_HOST  # re-exported: the defaults live in bot.defaults
from bot.defaults import MCP_HTTP_PORT as MCP_HTTP_PORT
from bot.defaults import SERVE_PORT as SERVE_PORT
from bot.defaults import SLACK_HTTP_PORT as SLACK_HTTP_PORT
from tools.config import NamedSettings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BOT_TOKEN_PREFIX = "xoxb-"  # noqa: S105 - the kind of token, not a token
APP_TOKEN_PREFIX = "xapp-"  # noqa: S105 - the kind of token, not a token


def token_kind_problem(variable: str, token: SecretStr | None, prefix: str, what: str) -> str | None:
    """A sentence when ``token`` is set but is not the kind of Slack token ``variable`` needs (never the value)."""
    if token is None:
        return None
    value = token.get_secret_value().strip()
    if value.startswith(prefix):
        return None
    seen = next((p for p in ("xoxb-", "xoxp-", "xapp-", "xoxe-") if value.startswith(p)), None)
    kind = f"a {seen}… token" if seen else "not a Slack token"
    return f"{variable} must be {what} ({prefix}…), but it is {kind}."


def default_database_path() -> Path:
    from platformdirs import user_state_dir  # only when K6BOT_DATABASE_URL is not set

    return Path(user_state_dir("k6bot", appauthor=False)) / "k6bot.db"


def database_url_from(value: str | None) -> str:
    """A SQLAlchemy async URL: as given, or a SQLite file for a plain path (default: the user's state dir)."""
    if not value:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        return value
    path = Path(value).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


class BotSettings(NamedSettings):
    """Behaviour of k6bot's front-ends."""

    model_config = SettingsConfigDict(env_prefix="K6BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    read_only: bool = Field(default=False, description="Offer and allow read operations only (K6BOT_READ_ONLY=1).")
    toolsets: str | None = Field(
        default=None,
        description="MCP toolsets, comma-separated: core (default), tests, runs, projects, …, all.",
    )
    mcp_token: SecretStr | None = Field(default=None, description="Bearer token required by MCP over HTTP.")
    mcp_allowed_hosts: str | None = Field(
        default=None, description="Extra Host/Origin names MCP over HTTP accepts, comma-separated."
    )
    policy_file: Path | None = Field(default=None, description="YAML file saying who may do what (Slack).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL or a SQLite file path.")
    notify_channel: str | None = Field(default=None, description="Slack channel that hears about every run.")
    notify_insight: bool = Field(
        default=True,
        description="Run-finished messages add the verdict vs the baseline / previous run and every crossed threshold.",
    )
    notify_charts: bool = Field(
        default=True, description="Run-finished messages get the run's chart in their thread (needs files:write)."
    )
    poll_seconds: float = Field(default=15.0, gt=0, le=3600, description="How often the watcher polls k6 Cloud.")
    webhook_secret: SecretStr | None = Field(default=None, description="Shared secret of POST /k6/webhook.")
    confirm_ttl_seconds: float = Field(
        default=600.0, gt=0, le=86400, description="How long a confirmation stays valid."
    )
    intent_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="After a restart, how old a confirmed Slack request left open must be before it is reconciled.",
    )
    idempotency_window: float = Field(
        default=600.0,
        gt=0,
        le=86400,
        description="Seconds within which an identical confirmed MCP start/stop is a repeat of the first one.",
    )
    demo_speed: float = Field(default=30.0, gt=0, le=10000, description="Clock speed of the demo simulator.")
    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    timezone: str | None = Field(
        default=None,
        description="IANA time zone in which 'today', 'since monday' and schedule times are meant (default: local).",
    )
    chart_dir: Path | None = Field(
        default=None, description="Where the terminal chat writes chart PNGs (default: a temporary directory)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin or UTC)") from None
        return value.strip()

    @property
    def tzinfo(self) -> tzinfo:
        """The time zone people mean when they type dates (the machine's local zone unless K6BOT_TIMEZONE says)."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        local = datetime.now().astimezone().tzinfo
        return local or UTC

    @field_validator("mcp_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_secret(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("policy_file", "database_url", "notify_channel", "toolsets", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        if isinstance(value, str):
            level = value.strip().upper() or "INFO"
            if level not in LOG_LEVELS:
                raise ValueError(f"K6BOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
            return level
        return value

    @property
    def mcp_allowed_host_list(self) -> list[str]:
        return [h.strip() for h in (self.mcp_allowed_hosts or "").split(",") if h.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        return database_url_from(self.database_url)


class SlackSettings(NamedSettings):
    """Slack credentials and where the Slack Web API is."""

    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-…).")
    signing_secret: SecretStr | None = Field(default=None, description="Signing secret of the Slack app.")
    app_token: SecretStr | None = Field(default=None, description="App-level token (xapp-…) for Socket Mode.")
    api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")

    @field_validator("bot_token", "signing_secret", "app_token", mode="before")
    @classmethod
    def _blank_secret(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def bot_token_problem(self) -> str | None:
        """Why the bot token cannot work (missing, or another kind of token), with the fix; None when fine."""
        if self.bot_token is None:
            return "SLACK_BOT_TOKEN is not set: copy the app's Bot User OAuth Token (xoxb-…)."
        wrong = token_kind_problem("SLACK_BOT_TOKEN", self.bot_token, BOT_TOKEN_PREFIX, "a bot token")
        return f"{wrong} Copy the Bot User OAuth Token from OAuth & Permissions." if wrong else None

    def app_token_problem(self) -> str | None:
        """Why Socket Mode cannot start with the app-level token, with the fix; None when fine."""
        if self.app_token is None:
            return (
                "Socket Mode needs SLACK_APP_TOKEN (an app-level token, xapp-…, with connections:write); "
                "or use --mode http."
            )
        wrong = token_kind_problem("SLACK_APP_TOKEN", self.app_token, APP_TOKEN_PREFIX, "an app-level token")
        return (
            f"{wrong} Generate one with connections:write under Basic Information → App-Level Tokens."
            if wrong
            else None
        )

    def signing_secret_problem(self) -> str | None:
        """Why HTTP mode cannot verify Slack's requests, with the fix; None when fine."""
        if self.signing_secret is None:
            return "SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page."
        return None

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"SLACK_API_URL must start with http:// or https://, got {value!r}")
        return value if value.endswith("/") else value + "/"
