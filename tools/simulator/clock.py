"""The simulator's clock: simulated time that runs at a configurable speed and can be advanced."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """Simulated wall clock.

    Simulated time advances ``speed`` times faster than real (monotonic) time; ``speed = 0`` freezes it,
    which makes tests fully deterministic. :meth:`advance` jumps forward instantly.
    """

    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        _check_speed(speed)
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._base_sim = (start or datetime.now(UTC)).astimezone(UTC)
        self._base_real = monotonic()
        self._speed = float(speed)

    def now(self) -> datetime:
        """Current simulated time (aware, UTC)."""
        with self._lock:
            return self._now_locked()

    def advance(self, seconds: float) -> datetime:
        """Jump the clock forward by ``seconds`` of simulated time; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        with self._lock:
            self._rebase()
            self._base_sim += timedelta(seconds=seconds)
            return self._base_sim

    def set(self, moment: datetime) -> datetime:
        """Put the clock at ``moment`` (an aware instant, earlier or later): for building a world on an empty
        simulator at a fixed instant; runs that already exist would see time go backwards."""
        if moment.tzinfo is None:
            raise ValueError("moment must be an aware datetime")
        with self._lock:
            self._base_sim = moment.astimezone(UTC)
            self._base_real = self._monotonic()
            return self._base_sim

    @property
    def speed(self) -> float:
        """How many simulated seconds pass per real second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        _check_speed(value)
        with self._lock:
            self._rebase()
            self._speed = float(value)

    def _now_locked(self) -> datetime:
        elapsed = (self._monotonic() - self._base_real) * self._speed
        return self._base_sim + timedelta(seconds=elapsed)

    def _rebase(self) -> None:
        self._base_sim = self._now_locked()
        self._base_real = self._monotonic()


def _check_speed(speed: float) -> None:
    if speed < 0:
        raise ValueError("speed must be >= 0")
