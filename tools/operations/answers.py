"""Direct answers to the questions people ask about runs: "is 1234 done yet?" → "No — running for 12m of 30m."

Each answer takes an operation's result and says the one thing asked, first; the full result follows it.
A yes/no question starts with "Yes" or "No" (or "Not yet").
"""

from __future__ import annotations

from datetime import UTC, datetime

from tools.models import TestRun
from tools.outputs import RunList, RunMetrics, abort_reason, human_duration, human_time, status_phrase, vuh_text
from tools.phrasing import Answer


def _running_for(run: TestRun) -> str:
    elapsed = run.duration_seconds(datetime.now(UTC))
    if elapsed is None:
        return f"it is {run.status.replace('_', ' ')}, not running yet"
    of = f" of ~{human_duration(run.estimated_duration)}" if run.estimated_duration else ""
    if run.status == "processing_metrics":
        return f"it ran {human_duration(elapsed)} and k6 Cloud is processing its metrics"
    return f"running for {human_duration(elapsed)}{of}"


def _how_it_ended(run: TestRun) -> str:
    text = status_phrase(run.status, run.result)
    reason = abort_reason(run)
    if reason:
        text += f" ({reason})"
    if run.ended is not None:
        text += f", ended {human_time(run.ended)}"
    return text


def done(run: TestRun) -> str:
    if run.is_finished:
        return f"Yes — run {run.id} finished: {_how_it_ended(run)}."
    return f"No — run {run.id} is {_running_for(run)}."


def running(run: TestRun) -> str:
    if run.is_finished:
        return f"No — run {run.id} finished: {_how_it_ended(run)}."
    return f"Yes — run {run.id} is {_running_for(run)}."


def started(run: TestRun) -> str:
    if run.status in ("created", "queued", "initializing"):
        return f"No — run {run.id} is {run.status.replace('_', ' ')}, not running yet."
    if run.is_finished:
        return f"Yes — run {run.id} started {human_time(run.created)} and finished: {_how_it_ended(run)}."
    return f"Yes — run {run.id} is {_running_for(run)}."


def state(run: TestRun) -> str:
    return f"Run {run.id} is {status_phrase(run.status, run.result)}."


def passed(run: TestRun) -> str:
    if not run.is_finished:
        return f"Not yet — run {run.id} is {_running_for(run)}."
    if run.result == "passed":
        return f"Yes — run {run.id} passed ({status_phrase(run.status, run.result)})."
    return f"No — run {run.id} {_how_it_ended(run)}."


def failed(run: TestRun) -> str:
    if not run.is_finished:
        return f"Not yet — run {run.id} is {_running_for(run)}."
    if run.result == "passed":
        return f"No — run {run.id} passed."
    return f"Yes — run {run.id} {_how_it_ended(run)}."


def aborted(run: TestRun) -> str:
    if run.status != "aborted":
        return f"No — run {run.id} is {status_phrase(run.status, run.result)}."
    return f"Yes — run {run.id} was {abort_reason(run) or 'aborted'}."


def who(run: TestRun) -> str:
    if run.started_by:
        return f"{run.started_by} started run {run.id} ({human_time(run.created)})."
    return f"Run {run.id} was started with an API token (e.g. CI), not by a person ({human_time(run.created)})."


def when(run: TestRun) -> str:
    ended = f"; it ended {human_time(run.ended)}" if run.ended else ""
    return f"Run {run.id} was created {human_time(run.created)}{ended}."


def how_long(run: TestRun) -> str:
    seconds = run.duration_seconds(datetime.now(UTC))
    if seconds is None:
        return f"Run {run.id} has not started executing yet ({run.status.replace('_', ' ')})."
    verb = "ran" if run.is_finished else "has been running for"
    return f"Run {run.id} {verb} {human_duration(seconds)}."


def cost(run: TestRun) -> str:
    if run.vuh is None:
        return f"k6 Cloud has no cost for run {run.id} yet."
    return f"Run {run.id} cost {vuh_text(run.vuh)}."


def why(run: TestRun) -> str:
    reason = abort_reason(run)
    if reason:
        return f"Run {run.id}: {reason}."
    details = (run.result_details or {}).get("message")
    if run.result and run.result != "passed":
        return f"Run {run.id} {status_phrase(run.status, run.result)}" + (f": {details}." if details else ".")
    return f"Run {run.id} is {status_phrase(run.status, run.result)}."


RUN_ANSWERS: tuple[Answer, ...] = (
    Answer(
        "who", ("who started", "who ran", "who launched", "who kicked off", "who triggered", "started by", "who"), who
    ),
    Answer(
        "done",
        (
            "done",
            "finished",
            "over",
            "complete",
            "completed",
            "ended",
            "yet",
            "finish",
            "finishes",
            "completes",
            "ends",
            "how long until",
            "how much longer",
            "eta",
            "time left",
            "remaining",
        ),
        done,
    ),
    Answer("running", ("running", "still running", "still going", "going", "in progress"), running),
    Answer("started", ("started", "begun", "started yet", "kicked off", "under way", "underway"), started),
    Answer(
        "passed",
        ("pass", "passed", "succeed", "succeeded", "successful", "success", "green", "go well", "ok", "work"),
        passed,
    ),
    Answer("failed", ("fail", "failed", "break", "broke", "red", "error out"), failed),
    Answer("state", ("initializing", "initialising", "queued", "processing", "pending", "waiting", "created"), state),
    Answer("aborted", ("aborted", "stopped", "killed", "cancelled", "canceled"), aborted),
    Answer("how_long", ("how long", "duration", "how long did it take", "take", "took"), how_long),
    Answer("cost", ("cost", "how much", "vuh", "price", "how many vuh", "consume", "consumed", "use", "used"), cost),
    Answer("when", ("when", "what time", "end", "begin"), when),
    Answer("why", ("why",), why),
)


def anything_running(result: RunList) -> str:
    going = [r for r in result.items if r.status not in ("completed", "aborted")]
    if not going:
        return "No — nothing is running right now."
    shown = ", ".join(f"{r.id} {r.test_name or f'test {r.test_id}'} ({r.status.replace('_', ' ')})" for r in going[:5])
    more = f" and {len(going) - 5} more" if len(going) > 5 else ""
    return f"Yes — {len(going)} run{'s' if len(going) != 1 else ''} going: {shown}{more}."


LIST_ANSWERS: tuple[Answer, ...] = (
    Answer(
        "running",
        ("anything running", "anything going on", "is anything", "are there any", "running", "going on", "happening"),
        anything_running,
    ),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def error_rate(m: RunMetrics) -> str:
    if m.http_req_failed_rate is None:
        return f"Run {m.test_run_id} has no HTTP request data (yet)."
    return f"Run {m.test_run_id}: {_pct(m.http_req_failed_rate)} of HTTP requests failed."


def latency(m: RunMetrics) -> str:
    if m.http_req_duration_p95_ms is None:
        return f"Run {m.test_run_id} has no HTTP request data (yet)."
    return (
        f"Run {m.test_run_id}: p95 http_req_duration {_ms(m.http_req_duration_p95_ms)}, "
        f"p99 {_ms(m.http_req_duration_p99_ms)}."
    )


def request_rate(m: RunMetrics) -> str:
    if m.http_req_rate is None:
        return f"Run {m.test_run_id} has no HTTP request data (yet)."
    return f"Run {m.test_run_id} sent {m.http_req_rate:.1f} requests per second."


def checks(m: RunMetrics) -> str:
    if m.checks_pass_rate is None:
        return f"Run {m.test_run_id} has no checks."
    failing = [c for c in m.checks if c.pass_rate < 1]
    worst = "; ".join(f"'{c.name}' {_pct(c.pass_rate)}" for c in sorted(failing, key=lambda c: c.pass_rate)[:3])
    tail = f" Below 100%: {worst}." if worst else " Every check passed."
    return f"Run {m.test_run_id}: checks passed {_pct(m.checks_pass_rate)} overall.{tail}"


METRIC_ANSWERS: tuple[Answer, ...] = (
    Answer(
        "error_rate",
        ("error rate", "failure rate", "errors", "failed requests", "fail rate", "how many errors"),
        error_rate,
    ),
    Answer(
        "latency", ("p95", "p99", "latency", "response time", "response times", "how fast", "how slow", "slow"), latency
    ),
    Answer("request_rate", ("request rate", "rps", "throughput", "requests per second", "req/s"), request_rate),
    Answer("checks", ("checks", "check results", "check pass rate"), checks),
)

__all__ = ["LIST_ANSWERS", "METRIC_ANSWERS", "RUN_ANSWERS"]
