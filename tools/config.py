"""Settings for talking to the Grafana Cloud k6 API, read from the environment and `.env`.

The variable names follow the k6 CLI (`K6_CLOUD_TOKEN`, `K6_CLOUD_STACK_ID`, `K6_CLOUD_STACK_URL`) so a
machine that already runs `k6 cloud` needs nothing new.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.k6.io"


class K6CloudSettings(BaseSettings):
    """Where the k6 Cloud API is and how to authenticate to it."""

    model_config = SettingsConfigDict(
        env_prefix="K6_CLOUD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    token: SecretStr | None = Field(
        default=None,
        description="Grafana Cloud k6 personal API token or Grafana stack API token (K6_CLOUD_TOKEN).",
    )
    stack_id: int | None = Field(
        default=None, ge=1, description="Numeric Grafana stack id sent as X-Stack-Id (K6_CLOUD_STACK_ID)."
    )
    stack_url: str | None = Field(
        default=None,
        description="Stack URL such as https://mystack.grafana.net, turned into a stack id through "
        "GET /cloud/v6/auth when K6_CLOUD_STACK_ID is not set (K6_CLOUD_STACK_URL).",
    )
    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Base URL of the k6 Cloud API, for proxies and tests (K6_CLOUD_API_URL).",
    )
    timeout: float = Field(default=60.0, gt=0, le=600, description="Per-request timeout in seconds (K6_CLOUD_TIMEOUT).")
    max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of idempotent requests on 5xx, 429 and network errors."
    )

    @field_validator("api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("K6_CLOUD_API_URL must start with http:// or https://")
        return value

    @field_validator("token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("stack_id", "stack_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value
