"""Settings of the k6bot front-ends (K6BOT_* and Slack's SLACK_* variables, env and `.env`).

The k6 Cloud connection itself is configured by :class:`tools.config.K6CloudSettings` (K6_CLOUD_*).
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_state_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LISTEN_HOST = "127.0.0.1"
"""Where k6bot's HTTP servers (serve, slack --mode http, mcp --transport http) listen unless told otherwise:
this machine only. Anything wider (``--host 0.0.0.0``, as the Docker image does) is a decision to make."""


def default_database_path() -> Path:
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


class BotSettings(BaseSettings):
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
    poll_seconds: float = Field(default=15.0, gt=0, le=3600, description="How often the watcher polls k6 Cloud.")
    webhook_secret: SecretStr | None = Field(default=None, description="Shared secret of POST /k6/webhook.")
    confirm_ttl_seconds: float = Field(
        default=600.0, gt=0, le=86400, description="How long a confirmation stays valid."
    )
    demo_speed: float = Field(default=30.0, gt=0, le=10000, description="Clock speed of the demo simulator.")
    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")

    @field_validator("mcp_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_secret(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("policy_file", "database_url", "notify_channel", "toolsets", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def mcp_allowed_host_list(self) -> list[str]:
        return [h.strip() for h in (self.mcp_allowed_hosts or "").split(",") if h.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        return database_url_from(self.database_url)


class SlackSettings(BaseSettings):
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

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"
