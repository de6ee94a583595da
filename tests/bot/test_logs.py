"""Secrets never reach a log line, even inside an exception's text."""

from __future__ import annotations

import logging

from bot.logs import RedactSecrets

SECRET = "xoxb-1234-very-secret"


def test_secrets_are_scrubbed_from_messages_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("k6bot.test.redaction")
    handler = Collect()
    handler.addFilter(RedactSecrets([SECRET]))
    logger.addHandler(handler)
    try:
        logger.warning("token is %s", SECRET)
        try:
            raise RuntimeError(f"Slack said invalid_auth for {SECRET}")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    joined = "\n".join(records)
    assert SECRET not in joined
    assert "token is ***" in joined and "invalid_auth for ***" in joined
