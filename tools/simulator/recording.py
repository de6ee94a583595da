"""The log of API requests the simulator received (what tests assert on), bounded.

It keeps the latest :data:`DEFAULT_LOG_SIZE` requests (a ring buffer) and at most
:data:`MAX_RECORDED_BODY` bytes of each body: the demo mode of a long-running ``k6bot mcp`` or
``k6bot serve`` runs the simulator in its own process, where an unbounded log grew by every call.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .timeutil import iso


@dataclass(frozen=True)
class RecordedRequest:
    """One API request and the status it got (0 when the connection was dropped).

    ``query`` keeps the last value of a repeated parameter; ``headers`` have lower-case names and the
    ``Authorization`` credentials replaced by ``<redacted>`` (the scheme stays: ``Bearer <redacted>``);
    ``at`` is simulated time.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "status": self.status,
            "at": iso(self.at),
        }


DEFAULT_LOG_SIZE = 1000
"""Requests kept: the busiest test records fewer than 500; a demo session's log levels off at about 2 MB."""
MAX_RECORDED_BODY = 64 * 1024
"""Bytes of a body kept (a script upload can be megabytes; tests read small JSON bodies)."""


class RequestLog:
    """Thread-safe ring buffer of the latest :class:`RecordedRequest` (``limit`` of them); ``total`` counts all."""

    def __init__(self, limit: int = DEFAULT_LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=limit)
        self.total = 0

    @property
    def limit(self) -> int:
        return self._items.maxlen or 0

    def resize(self, limit: int) -> None:
        """Keep at most ``limit`` requests from now on (the oldest go first)."""
        with self._lock:
            self._items = deque(self._items, maxlen=max(1, limit))

    def append(self, item: RecordedRequest) -> None:
        if len(item.body) > MAX_RECORDED_BODY:
            item = dataclasses.replace(item, body=item.body[:MAX_RECORDED_BODY])
        with self._lock:
            self._items.append(item)
            self.total += 1

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.total = 0

    def count(self, method: str, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        return sum(
            1 for item in self.snapshot() if item.method.upper() == method.upper() and pattern.fullmatch(item.path)
        )
