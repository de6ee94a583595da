"""Observers of k6 Cloud API requests: one event per HTTP attempt, for whoever wants to measure them.

``tools/`` knows nothing of Prometheus: :class:`~tools.client.K6CloudClient` reports each attempt here and a
front-end (``bot.metrics``) registers an observer that counts them. An observer that raises is logged and
ignored; it can never fail a request.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("k6bot.observe")

_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{16,})$")
_ARGUMENTS = re.compile(r"\((?:[^()]|\([^()]*\))*\)")  # "(...)" call arguments, one level of nesting inside


@dataclass(frozen=True)
class ApiAttempt:
    """One HTTP attempt of a logical request to the k6 Cloud API."""

    method: str
    route: str
    """The path with its ids templated: ``/cloud/v6/test_runs/{id}``."""
    status: int | None
    """The HTTP status; None when no answer came (``error`` says why)."""
    error: str | None
    """The transport error's class name (``ConnectError``, ``ReadTimeout``…) when there was no answer."""
    seconds: float
    attempt: int
    """1 for the first try, 2 for the first retry…"""

    @property
    def operation(self) -> str:
        return f"{self.method} {self.route}"


Observer = Callable[[ApiAttempt], None]
_observers: list[Observer] = []


@functools.lru_cache(maxsize=1024)
def route_of(path: str) -> str:
    """The path with its ids and call arguments templated, so label values stay few.

    ``/cloud/v6/test_runs/1234`` → ``/cloud/v6/test_runs/{id}``; ``/cloud/v6/load_tests(12)/start`` →
    ``/cloud/v6/load_tests({id})/start``; ``…/query_aggregate_k6(metric='x',query='…')`` →
    ``…/query_aggregate_k6({args})``.
    """
    path = _ARGUMENTS.sub(_arguments, path.split("?", 1)[0])
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def _arguments(match: re.Match[str]) -> str:
    return "({id})" if match.group(0)[1:-1].isdigit() else "({args})"


def add_observer(observer: Observer) -> Callable[[], None]:
    """Register ``observer`` (once, however often it is added); returns a function that removes it."""
    if observer not in _observers:
        _observers.append(observer)

    def remove() -> None:
        if observer in _observers:
            _observers.remove(observer)

    return remove


def watched() -> bool:
    """Whether any observer is registered: without one, a caller need not even build the event."""
    return bool(_observers)


def report(attempt: ApiAttempt) -> None:
    for observer in list(_observers):
        try:
            observer(attempt)
        except Exception:
            log.debug("A k6 API observer failed", exc_info=True)
