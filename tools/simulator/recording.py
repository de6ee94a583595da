"""The log of API requests the simulator received (what tests assert on)."""

from __future__ import annotations

import re
import threading
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


class RequestLog:
    """Thread-safe list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def count(self, method: str, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        return sum(
            1 for item in self.snapshot() if item.method.upper() == method.upper() and pattern.fullmatch(item.path)
        )
