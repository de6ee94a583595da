"""Retrying, written once for all of k6bot: backoff with jitter, ``Retry-After``, and what may be repeated.

The policy is tenacity's (a maintained library, and the engine under stamina): exponential backoff with "equal
jitter" — attempt *n* waits a random time in [c/2, c], c = base·2ⁿ⁻¹ capped — unless the server said how
long to wait (``Retry-After``, in seconds or as an HTTP date). Two kinds of callers use it:

* loops that retry in-process (the k6 API client, Socket Mode's first connection) run :func:`retrying`;
* the Slack outbox, whose schedule lives in the database, asks :meth:`Backoff.delay` for attempt *n*.

Whether a failed request may be sent again is the caller's call, made with :class:`Failure`: a failure records
whether the request *possibly took effect* (its answer was lost, or the server failed after reading it). Such a
request is repeated only when repeating is harmless — a read, an idempotent write, a start carrying its
idempotency key — and never when it is a keyless POST. A request that never reached the server (connection
refused) may always be repeated.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_never
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

Sleep = Callable[[float], Awaitable[None]]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    raw = str(value).strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: attempt n waits random [c/2, c], c = min(cap, base·2ⁿ⁻¹)."""

    base: float = 0.5
    cap: float = 8.0

    def wait(self) -> wait_base:
        """The tenacity wait strategy: a fixed half plus a random half of the exponential ceiling."""
        half_base, half_cap = self.base / 2, self.cap / 2
        return wait_exponential(multiplier=half_base, max=half_cap) + wait_random_exponential(
            multiplier=half_base, max=half_cap
        )

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1 for the first), for schedules kept elsewhere."""
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type] # the strategy reads attempt_number only
        state.attempt_number = max(1, attempt)
        return float(self.wait()(state))


class Failure(Exception):
    """One failed attempt of a retried call: what to raise if it is the last, and whether another may follow.

    ``possibly_processed``: the request may have taken effect although it failed (a timeout or reset after
    sending, a 5xx). ``may_repeat``: the caller judged another attempt safe. ``retry_after``: the server's
    requested wait, used instead of the backoff.
    """

    def __init__(
        self,
        error: BaseException,
        *,
        may_repeat: bool,
        possibly_processed: bool,
        retry_after: float | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(reason or type(error).__name__)
        self.error = error
        self.may_repeat = may_repeat
        self.possibly_processed = possibly_processed
        self.retry_after = retry_after
        self.reason = reason or type(error).__name__


def _may_repeat(exc: BaseException) -> bool:
    return isinstance(exc, Failure) and exc.may_repeat


class _RetryAfterOr(wait_base):
    """The server's ``Retry-After`` when the failure carries one, else the backoff."""

    def __init__(self, backoff: wait_base) -> None:
        self.backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(failure, Failure) and failure.retry_after is not None:
            return failure.retry_after
        return float(self.backoff(retry_state))


def retrying(
    *,
    attempts: int | None,
    backoff: Backoff,
    sleep: Sleep | None = None,
    log: logging.Logger | None = None,
    what: str = "request",
) -> AsyncRetrying:
    """An ``async for attempt in retrying(...): with attempt: ...`` loop over at most ``attempts`` tries (None: no limit).

    The body raises :class:`Failure` for a failed attempt; another follows when ``may_repeat`` and attempts
    remain, after ``retry_after`` or the backoff. Otherwise the last :class:`Failure` propagates (tenacity's
    ``reraise``), for the caller to turn into its error. Each wait is logged in one line.
    """

    def before_sleep(state: RetryCallState) -> None:
        if log is None or state.outcome is None or state.next_action is None:
            return
        failure = state.outcome.exception()
        of = f"/{attempts}" if attempts is not None else ""
        log.warning(
            "%s: %s on attempt %d%s; retrying in %.2f s",
            what,
            getattr(failure, "reason", failure),
            state.attempt_number,
            of,
            state.next_action.sleep,
        )

    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    return AsyncRetrying(
        stop=stop_never if attempts is None else stop_after_attempt(max(1, attempts)),
        wait=_RetryAfterOr(backoff.wait()),
        retry=retry_if_exception(_may_repeat),
        before_sleep=before_sleep,
        reraise=True,
        **options,
    )


__all__ = ["Backoff", "Failure", "parse_retry_after", "retrying"]
