"""SimClock: speed, advance, continuity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.simulator import SimClock

ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_speed_scales_real_time() -> None:
    real = FakeMonotonic()
    clock = SimClock(ORIGIN, speed=600, monotonic=real)
    real.value += 3
    assert clock.now() == ORIGIN + timedelta(minutes=30)


def test_changing_speed_keeps_time_continuous() -> None:
    real = FakeMonotonic()
    clock = SimClock(ORIGIN, speed=2, monotonic=real)
    real.value += 10
    clock.speed = 0
    frozen = clock.now()
    real.value += 1000
    assert clock.now() == frozen == ORIGIN + timedelta(seconds=20)
    assert clock.advance(5) == frozen + timedelta(seconds=5)


def test_invalid_use() -> None:
    with pytest.raises(ValueError):
        SimClock(datetime(2025, 1, 1))  # naive
    with pytest.raises(ValueError):
        SimClock(ORIGIN).advance(-1)
    with pytest.raises(ValueError):
        SimClock(ORIGIN, speed=-1)
