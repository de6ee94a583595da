"""Settings for talking to the Grafana Cloud k6 API, read from the environment and `.env`.

The variable names follow the k6 CLI (`K6_CLOUD_TOKEN`, `K6_CLOUD_STACK_ID`, `K6_CLOUD_STACK_URL`) so a
machine that already runs `k6 cloud` needs nothing new.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.errors import ConfigurationError

DEFAULT_API_URL = "https://api.k6.io"


class SettingsError(ConfigurationError):
    """Settings that do not validate: ``problems`` holds one line per variable, each naming it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class NamedSettings(BaseSettings):
    """Settings whose errors name the environment variable (``K6_CLOUD_STACK_ID must be a number, got 'abc'``).

    Raises :class:`SettingsError` instead of pydantic's ValidationError, which names the field and spans lines.
    """

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError([self._problem(error) for error in exc.errors()]) from None

    @classmethod
    def env_name(cls, field: str) -> str:
        return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()

    @classmethod
    def _problem(cls, error: ErrorDetails) -> str:
        field = str(error["loc"][0]) if error["loc"] else ""
        name = cls.env_name(field) if field else cls.__name__
        info = cls.model_fields.get(field)
        secret = info is not None and "SecretStr" in str(info.annotation)
        got = "" if secret else f", got {_shown(error.get('input'))}"
        ctx = error.get("ctx") or {}
        kind = error["type"]
        if kind == "value_error":  # our validators' messages name the variable already
            text = str(ctx.get("error") or error["msg"])
            return text if text.startswith(name) else f"{name}: {text}"
        if kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
            return f"{name} must be a number{got}"
        if kind == "int_from_float":
            return f"{name} must be a whole number{got}"
        if kind in ("bool_parsing", "bool_type"):
            return f"{name} must be 1 or 0 (true/false, yes/no, on/off){got}"
        bounds = {
            "greater_than_equal": ("at least", "ge"),
            "greater_than": ("more than", "gt"),
            "less_than_equal": ("at most", "le"),
            "less_than": ("less than", "lt"),
        }
        if kind in bounds:
            words, key = bounds[kind]
            limit = ctx.get(key)
            shown_limit = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
            return f"{name} must be {words} {shown_limit}{got}"
        if kind == "missing":
            return f"{name} is required"
        return f"{name} is not valid ({error['msg']}){got}"


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= 80 else text[:77] + "…'"


class K6CloudSettings(NamedSettings):
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
            raise ValueError(f"K6_CLOUD_API_URL must start with http:// or https://, got {_shown(value)}")
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
        return value.strip() if isinstance(value, str) else value

    @field_validator("stack_url")
    @classmethod
    def _stack_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                f"K6_CLOUD_STACK_URL must be the stack's address, e.g. https://mystack.grafana.net, got {_shown(value)}"
            )
        return value
