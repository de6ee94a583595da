"""Logging to stderr with every known secret scrubbed from every line, as a second line of defence.

Also :class:`RateLimitedLog`: at most one line per reason per interval, for what outsiders can make k6bot
say as often as they like (junk requests at a public endpoint).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from bot.scrub import REDACTED, remember, scrub


class RedactSecrets(logging.Filter):
    """Scrubs a log record's message, arguments and traceback (:func:`bot.scrub.scrub`, plus ``secrets``)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return scrub(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        scrubbed = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
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


def _scrubbed_record(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            return record  # a broken format string: the handler reports it as it always does
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if scrub(text) != text:
                record.exc_text = scrub(text)  # formatters use this instead of formatting the exception again
        return record

    make.k6bot_scrubs = True  # type: ignore[attr-defined]
    return make


def install_record_scrubbing() -> None:
    """Scrub every log record as it is made, whichever handler (ours, a library's, a test's) gets it later."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "k6bot_scrubs", False):
        logging.setLogRecordFactory(_scrubbed_record(factory))


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted, not to the stream that was current at setup.

    A CLI run in-process (tests, an embedding program) swaps sys.stderr for a buffer and closes it afterwards; a
    handler holding that buffer would fail on every later record and print the raw record, arguments and all.
    """

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr (stdout may be the MCP stdio channel) with secrets scrubbed."""
    secrets = list(secrets)
    remember(*secrets)
    install_record_scrubbing()
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # httpx logs every request line at INFO, the MCP SDK every HTTP session it opens and closes (one per
    # junk request at /mcp): warnings only.
    for name in ("httpx", "httpcore", "mcp.server.streamable_http", "mcp.server.streamable_http_manager"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Alembic logs its plugins and every step at INFO; k6bot says in one line what an upgrade did.
    logging.getLogger("alembic").setLevel(logging.DEBUG if root.isEnabledFor(logging.DEBUG) else logging.WARNING)


@dataclass
class _Window:
    started: float
    suppressed: int = 0


class RateLimitedLog:
    """Logs at most one line per ``reason`` every ``every`` seconds; the next line says how many were held back.

    The count is told with the next line of the same reason (``(12 more like it in the last 60 s were not
    logged)``), so a flood of junk costs one line a minute per reason, and nobody loses track of its size.
    """

    def __init__(
        self, logger: logging.Logger, *, every: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def log(self, level: int, reason: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless a line of ``reason`` was logged less than ``every`` seconds ago."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(reason)
            if window is not None and now - window.started < self.every:
                window.suppressed += 1
                return False
            suppressed = window.suppressed if window is not None else 0
            since = now - window.started if window is not None else 0.0
            self._windows[reason] = _Window(now)
        if suppressed:
            message += f" ({suppressed} more like it in the last {since:.0f} s were not logged)"
        self.logger.log(level, message, *args)
        return True

    def warning(self, reason: str, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, reason, message, *args)

    def info(self, reason: str, message: str, *args: object) -> bool:
        return self.log(logging.INFO, reason, message, *args)
