"""A test run's lifecycle: the planned status timeline and its state at a given moment.

A run stores its whole planned timeline (created → queued → initializing → running → processing_metrics →
completed, or an abort somewhere); what the API shows is the part of it that lies before ``now``. That is
why advancing the clock immediately moves runs along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .models import Ending, Phase, TestRun

QUEUED_AFTER_S = 2
INITIALIZING_AFTER_S = 7
RUNNING_AFTER_S = 27
PROCESSING_FOR_S = 10
LIFETIME_AFTER_S = 120  # how long metrics processing hangs before the platform gives up on a run
UNFINISHED = ("created", "queued", "initializing", "running", "processing_metrics")
ABORTABLE = ("created", "queued", "initializing", "running")


@dataclass(frozen=True)
class AbortReason:
    """Why a run was aborted, as the API reports it."""

    legacy_status: int
    code: int
    message: str
    result: str


ABORT_REASONS: dict[str, AbortReason] = {
    "timeout": AbortReason(4, 4, "timed out: test metrics took too long to arrive", "error"),
    "user": AbortReason(5, 5, "aborted by user", "error"),
    "system": AbortReason(6, 6, "aborted by system: a load generator instance stopped responding", "error"),
    "lifetime": AbortReason(
        6, 6, "aborted by system: the test run exceeded its maximum lifetime while processing metrics", "error"
    ),
    "script_error": AbortReason(
        7,
        7,
        "aborted by script error: TypeError: Cannot read property 'access_token' of undefined "
        "at default (file:///script.js:31:27(42))",
        "error",
    ),
    "threshold": AbortReason(8, 8, "aborted by threshold", "failed"),
    "limit": AbortReason(9, 9, "aborted by limit: the test exceeds a limit of its project", "error"),
}

OUTCOME_ENDINGS: dict[str, Ending] = {
    "passed": Ending("completed", "passed"),
    "failed": Ending("completed", "failed"),
    "error": Ending("aborted", "error", "script_error"),
    "threshold_abort": Ending("aborted", "failed", "threshold"),
    "system_abort": Ending("aborted", "error", "system"),
    "limit": Ending("aborted", "error", "limit"),
}


def ending_for(status: str, result: str, reason: str | None, by_user: str | None) -> Ending:
    """The :class:`Ending` for a forced finish (see ``Simulator.finish_run``)."""
    if status == "completed":
        if result not in ("passed", "failed"):
            raise ValueError("a completed run's result is passed or failed")
        return Ending("completed", result)
    if status != "aborted":
        raise ValueError("status must be completed or aborted")
    reason = reason or ("threshold" if result == "failed" else "system")
    if reason not in ABORT_REASONS:
        raise ValueError(f"unknown abort reason {reason!r}; use one of {', '.join(ABORT_REASONS)}")
    return Ending("aborted", ABORT_REASONS[reason].result, reason, by_user if reason == "user" else None)


def abort_extra(ending: Ending) -> dict[str, Any]:
    """``status_details.extra`` of an aborted run."""
    reason = ABORT_REASONS[ending.reason or "system"]
    return {"by_user": ending.by_user, "code": reason.code, "message": reason.message}


def plan_timeline(created: datetime, duration_s: int, ending: Ending) -> list[Phase]:
    """The natural timeline of a run created at ``created`` that lasts ``duration_s`` seconds."""
    phases = [Phase("created", created)]
    if ending.reason == "limit":
        return [*phases, Phase("aborted", created + _s(QUEUED_AFTER_S), abort_extra(ending))]
    running = created + _s(RUNNING_AFTER_S)
    phases += [
        Phase("queued", created + _s(QUEUED_AFTER_S)),
        Phase("initializing", created + _s(INITIALIZING_AFTER_S)),
        Phase("running", running),
    ]
    if ending.status == "completed" or ending.reason == "lifetime":
        processing = running + _s(duration_s)
        if ending.reason == "lifetime":  # ran to the end, then processing never finished
            last = Phase("aborted", processing + _s(LIFETIME_AFTER_S), abort_extra(ending))
        else:
            last = Phase("completed", processing + _s(PROCESSING_FOR_S))
        return [*phases, Phase("processing_metrics", processing), last]
    return [
        *phases,
        Phase("aborted", running + _s(_abort_offset(ending.reason, duration_s)), abort_extra(ending)),
    ]


def cut_timeline(timeline: list[Phase], at: datetime, ending: Ending) -> list[Phase]:
    """The timeline of a run forced to end at ``at`` (phases up to then, then the ending)."""
    kept = [phase for phase in timeline if phase.at <= at and phase.status in UNFINISHED]
    if ending.status == "completed":
        if kept[-1].status != "processing_metrics":
            kept.append(Phase("processing_metrics", at))
        return [*kept, Phase("completed", at)]
    return [*kept, Phase("aborted", at, abort_extra(ending))]


@dataclass(frozen=True)
class RunView:
    """A run's state at one moment."""

    history: list[Phase]
    now: datetime

    @property
    def current(self) -> Phase:
        return self.history[-1]

    @property
    def status(self) -> str:
        return self.current.status

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

    @property
    def ended(self) -> datetime | None:
        return self.current.at if self.finished else None

    @property
    def validated(self) -> bool:
        """Options were validated (the run got past ``created``)."""
        return any(phase.status == "queued" for phase in self.history)

    def entered(self, status: str) -> datetime | None:
        return next((phase.at for phase in self.history if phase.status == status), None)

    @property
    def execution_s(self) -> int:
        """Seconds spent running so far."""
        for index, phase in enumerate(self.history):
            if phase.status == "running":
                end = self.history[index + 1].at if index + 1 < len(self.history) else self.now
                return max(0, int((end - phase.at).total_seconds()))
        return 0


def view(run: TestRun, now: datetime) -> RunView:
    """The state of ``run`` at ``now``."""
    history = [phase for phase in run.timeline if phase.at <= now] or run.timeline[:1]
    return RunView(history, now)


def _abort_offset(reason: str | None, duration_s: int) -> float:
    if reason == "script_error":
        return min(45.0, duration_s / 2)
    if reason == "threshold":
        return min(max(60.0, duration_s * 0.4), duration_s * 0.9)
    return duration_s * 0.6


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
