"""One scrubber for every text that leaves k6bot: Slack, MCP results, the terminal, the audit log, the log.

It replaces with ``***``:

* every configured secret — ``K6_CLOUD_TOKEN``, ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``,
  ``SLACK_APP_TOKEN``, ``K6BOT_MCP_TOKEN``, ``K6BOT_WEBHOOK_SECRET`` and the password inside
  ``K6BOT_DATABASE_URL`` — read from the environment and from the settings the process was started with
  (:func:`remember_settings`; values set in code or ``.env`` are not in the environment);
* credentials inside URLs (``https://user:pass@host`` → ``https://***@host``);
* anything that looks like a token even when k6bot was never told about it: Slack's ``xoxb-``/``xoxp-``/
  ``xoxa-``… and ``xapp-`` tokens, Grafana Cloud's ``glc_`` tokens.

API error texts are the usual way a secret would get out (an API that echoes the token it refused), so
this runs where text leaves the process, not where it is made: whatever produced the text, it is caught.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, TypeVar, cast

from pydantic import BaseModel, SecretStr

REDACTED = "***"
SECRET_VARIABLES = (
    "K6_CLOUD_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "K6BOT_MCP_TOKEN",
    "K6BOT_WEBHOOK_SECRET",
)
DATABASE_VARIABLES = ("K6BOT_DATABASE_URL",)
MIN_SECRET_LENGTH = 8
"""Shorter values are too weak to be secrets and too common to replace in text (a run id, a word)."""

_TOKEN_PATTERNS = (
    r"(?<=://)[^\s/?#@<>|\"']+(?=@)",  # user:password@ (or a token@) inside a URL
    r"\bxox[a-z]-[A-Za-z0-9-]{6,}",  # Slack bot / user / app-config tokens
    r"\bxapp-[A-Za-z0-9-]{6,}",  # Slack app-level tokens
    r"\bglc_[A-Za-z0-9+/=_-]{8,}",  # Grafana Cloud access policy tokens
)
_URL_PASSWORD = re.compile(r"://[^\s/?#@:]*:([^\s/?#@]+)@")

_lock = threading.Lock()
_remembered: set[str] = set()
_compiled: tuple[frozenset[str], re.Pattern[str]] | None = None

T = TypeVar("T")


def _value(value: SecretStr | str | None) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return text.strip() or None


def database_password(url: str | None) -> str | None:
    """The password inside a database URL (``postgresql://user:pass@host/db`` → ``pass``)."""
    match = _URL_PASSWORD.search(url or "")
    return match.group(1) if match else None


def remember(*values: SecretStr | str | None) -> None:
    """Secrets to scrub from now on, in every text (too short ones are ignored, see MIN_SECRET_LENGTH)."""
    found = {v for v in (_value(value) for value in values) if v and len(v) >= MIN_SECRET_LENGTH}
    if not found - _remembered:
        return
    with _lock:
        _remembered.update(found)


def remember_settings(*settings: BaseModel | None) -> None:
    """Every ``SecretStr`` field of these settings, and the password of a ``database_url``."""
    for item in settings:
        if item is None:
            continue
        for name in type(item).model_fields:
            value = getattr(item, name, None)
            if isinstance(value, SecretStr):
                remember(value)
            elif isinstance(value, str) and "database_url" in name:
                remember(database_password(value))


def _environment() -> Iterator[str]:
    for name in SECRET_VARIABLES:
        value = _value(os.environ.get(name))
        if value and len(value) >= MIN_SECRET_LENGTH:
            yield value
    for name in DATABASE_VARIABLES:
        password = database_password(os.environ.get(name))
        if password and len(password) >= MIN_SECRET_LENGTH:
            yield password


def known_secrets() -> frozenset[str]:
    """Every secret value the scrubber replaces (the remembered ones and the environment's)."""
    with _lock:
        remembered = set(_remembered)
    return frozenset(remembered | set(_environment()))


def _pattern() -> re.Pattern[str]:
    global _compiled
    secrets = known_secrets()
    compiled = _compiled
    if compiled is not None and compiled[0] == secrets:
        return compiled[1]
    literal = [re.escape(s) for s in sorted(secrets, key=len, reverse=True)]  # longest first
    pattern = re.compile("|".join([*literal, *_TOKEN_PATTERNS]))
    _compiled = (secrets, pattern)
    return pattern


def scrub(text: str) -> str:
    """``text`` with every secret and credential replaced by ``***``."""
    if not text:
        return text
    return _pattern().sub(REDACTED, text)


def map_strings(value: T, change: Callable[[str], str]) -> T:
    """``value`` with ``change`` applied to every string inside it (dict keys and values, lists, tuples)."""

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return change(item)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return type(item)(walk(v) for v in item)
        return item

    return walk(value)  # type: ignore[no-any-return]


def scrub_data(value: T) -> T:
    """Every string inside ``value`` (dicts, lists, tuples, nested) scrubbed; other values as they are."""
    pattern = _pattern()
    return map_strings(value, lambda text: pattern.sub(REDACTED, text) if text else text)


def leaks(texts: Iterable[str], secrets: Iterable[str] | None = None) -> list[str]:
    """The known secrets (or ``secrets``) that appear in any of ``texts`` (for checks and tests)."""
    wanted = list(known_secrets() if secrets is None else secrets)
    return sorted({s for text in texts for s in wanted if s and s in text})


class ScrubbingWriter:
    """A text stream that scrubs what is written to it (the terminal chat's stdout and stderr)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(scrub(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # isatty, flush, encoding, fileno…: the stream's own
        return getattr(self._stream, name)


def scrubbing(stream: TextIO) -> TextIO:
    """``stream`` with everything written to it scrubbed."""
    return cast(TextIO, ScrubbingWriter(stream))
