"""Fault injection: make matching API requests fail, slow down or lose their connection."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["status", "latency", "drop", "malformed"]
FAULT_KINDS = ("status", "latency", "drop", "malformed")
MALFORMED_BODY = b'{"value": [{"id": 1233, "status": "runn'
"""What a ``malformed`` fault answers: JSON cut off mid-string, as a proxy that drops the rest of a body sends."""


@dataclass
class Fault:
    """One injected fault.

    ``method`` (None = any) and ``path`` (a regex matched with ``re.fullmatch`` on the URL path) select the
    requests. ``kind`` is ``status`` (answer ``status`` with ``body`` or a standard error body, plus a
    ``Retry-After`` header when ``retry_after`` is set), ``latency`` (wait ``delay`` real seconds, then
    process normally), ``drop`` (close the connection without a response) or ``malformed`` (answer HTTP 200
    with ``Content-Type: application/json`` and a body that is not JSON, :data:`MALFORMED_BODY`; ``status``
    and ``body`` are ignored). ``delay`` also applies before a status, drop or malformed answer. ``times`` is how many requests it affects (None = forever). By default the fault fires
    *before* the request is processed (no side effect); with ``after=True`` the request is processed first
    and only its response is replaced or lost.
    """

    method: str | None = None
    path: str = ".*"
    kind: FaultKind = "status"
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    times: int | None = 1
    body: dict[str, Any] | None = None
    after: bool = False
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 or None")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and self._pattern.fullmatch(path) is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from JSON fields (unknown fields raise TypeError)."""
        return cls(**data)


class FaultList:
    """The active faults (thread-safe). The first matching fault wins and uses up one of its ``times``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """A snapshot of the faults still armed."""
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, consuming one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
