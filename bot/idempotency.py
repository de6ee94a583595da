"""Repeat-safe writes: one idempotency key per (operation, normalised arguments, caller scope) within a window.

Two identical confirmed calls a second apart (an assistant that retries, a double click) must start one run:
the key is derived, not random, so the API dedupes even concurrent calls, and the first result is remembered
so the repeat can say it is a repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

DEFAULT_WINDOW_SECONDS = 600.0
KEY_LENGTH = 32  # the API accepts at most 36 characters

T = TypeVar("T")


def derive_key(operation: str, arguments: Mapping[str, Any], scope: str) -> str:
    """A stable key for this operation with these arguments from this caller (order of arguments irrelevant)."""
    canonical = json.dumps(
        {"op": operation, "args": arguments, "scope": scope}, sort_keys=True, default=str, ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:KEY_LENGTH]


@dataclass
class _Entry(Generic[T]):
    at: float
    result: T


@dataclass
class RepeatWindow(Generic[T]):
    """Remembers the result of each keyed write for ``window`` seconds; a repeat within it gets that result."""

    window: float = DEFAULT_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _done: dict[str, _Entry[T]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def _forget_old(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._done.items() if now - e.at >= self.window]:
            del self._done[key]

    async def once(self, key: str, write: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``write()``'s result and False, or the remembered result of the same key and True (a repeat).

        A failed write is not remembered: trying again is a new attempt (with the same key, so the API still
        starts one run at most).
        """
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # a concurrent twin waits for the first and then sees its result
            self._forget_old()
            entry = self._done.get(key)
            if entry is not None:
                return entry.result, True
            result = await write()
            self._done[key] = _Entry(self.clock(), result)
        if not lock.locked():
            self._locks.pop(key, None)
        return result, False
