"""Logging to stderr with every known secret scrubbed from every line, as a second line of defence."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from pydantic import SecretStr

REDACTED = "***"


class RedactSecrets(logging.Filter):
    """Replaces any occurrence of a secret value in a log record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        scrubbed = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg, record.args = scrubbed, None
        return True


class _NoTracebacks(logging.Filter):
    """Drops the traceback of a record (its one-line message stays), unless the logger is at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


def without_tracebacks(logger: logging.Logger) -> logging.Logger:
    """``logger``, its records kept to one line (for libraries that log a traceback on every retry)."""
    if not any(isinstance(f, _NoTracebacks) for f in logger.filters):
        logger.addFilter(_NoTracebacks())
    return logger


def secret_values(*values: SecretStr | str | None) -> list[str]:
    out = []
    for value in values:
        if value is None:
            continue
        out.append(value.get_secret_value() if isinstance(value, SecretStr) else value)
    return out


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr (stdout may be the MCP stdio channel) with secrets scrubbed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # httpx logs every request line at INFO; the client logs what matters (retries, failures) itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Alembic logs its plugins and every step at INFO; k6bot says in one line what an upgrade did.
    logging.getLogger("alembic").setLevel(logging.DEBUG if root.isEnabledFor(logging.DEBUG) else logging.WARNING)
