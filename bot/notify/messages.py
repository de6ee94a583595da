"""Slack messages about runs: the run-finished notification and the live progress of a start message.

Every string that comes from the API or from a person goes through :mod:`bot.slack.mrkdwn` (names, emails,
abort messages, check names), so a test called ``<!channel>`` pings nobody. Every message has a plain
``text`` fallback (notifications, screen readers) next to its blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack.mrkdwn import escape, link, mention, plain
from tools.analysis.thresholds import crossed
from tools.models import TestRun
from tools.operations.investigate import Investigation
from tools.outputs import RunMetrics, abort_reason, human_duration, vuh_text

RERUN_ACTION = "k6bot_rerun"
"""Button on a run-finished message; ``value`` is the load test id. The Slack app turns it into the normal
start confirmation."""
SAVE_ACTION = "k6bot_save"
"""Button on a run-finished message; ``value`` is the test run id."""

FAILURE_RESULTS = frozenset({"failed", "error"})
HEADER_MAX = 150
FIELD_MAX = 1900


def is_failure(run: TestRun) -> bool:
    """Failed, error or aborted: what a ``failures`` subscription wants to hear about."""
    return run.status == "aborted" or (run.result or "") in FAILURE_RESULTS


def outcome(run: TestRun) -> tuple[str, str]:
    """(emoji, word) for the run's end: ✅ passed, ❌ failed, 🛑 aborted, ⚠️ error."""
    if run.status == "aborted":
        return "🛑", "aborted" if run.result != "failed" else "aborted (failed)"
    if run.result == "passed":
        return "✅", "passed"
    if run.result == "failed":
        return "❌", "failed"
    if run.result == "error":
        return "⚠️", "error"
    return "🏁", run.status.replace("_", " ")


def reason_of(run: TestRun) -> str | None:
    """Why a run did not pass, in words (by whom, by a threshold, by the system, with the API's message/code)."""
    if run.status == "aborted":
        return abort_reason(run)
    if run.result in FAILURE_RESULTS:
        details = run.result_details or {}
        message = details.get("message")
        code = details.get("code")
        if message and code is not None:
            return f"{message} (code {code})"
        if message:
            return str(message)
        return "a threshold was crossed" if run.result == "failed" else "the execution did not complete"
    return None


def test_label(run: TestRun, test_name: str | None) -> str:
    return test_name or f"test {run.test_id}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _run_link(run: TestRun) -> str:
    label = f"#{run.id}"
    return link(run.test_run_details_page_url, label) if run.test_run_details_page_url else escape(label)


RATE_EPSILON = 1e-9
"""Rates this close to 0 or 1 are float noise: 0 % or 100 %."""


def _pct(value: float | None, digits: int = 2) -> str | None:
    """A share as a percentage, with as many decimals as it takes never to round a miss to 0 % or 100 %.

    0.99996 is "99.996%", not "100.00%", and 0.00001 "0.001%", not "0.00%".
    """
    if value is None:
        return None
    text = f"{value * 100:.{digits}f}"
    for places in range(digits, 10):
        text = f"{value * 100:.{places}f}"
        shown = float(text)
        if (shown >= 100) == (value >= 1 - RATE_EPSILON) and (shown <= 0) == (value <= RATE_EPSILON):
            break
    return text + "%"


def _metric_fields(metrics: RunMetrics | None) -> list[str]:
    if metrics is None:
        return []
    fields: list[str] = []
    if metrics.http_req_duration_p95_ms is not None:
        fields.append(f"*p95 http_req_duration*\n{metrics.http_req_duration_p95_ms:,.0f} ms")
    if metrics.http_req_rate is not None:
        fields.append(f"*Request rate*\n{metrics.http_req_rate:,.1f} req/s")
    failed = _pct(metrics.http_req_failed_rate)
    if failed is not None:
        fields.append(f"*Error rate*\n{failed} of requests failed")
    checks = _pct(metrics.checks_pass_rate)
    if checks is not None:
        fields.append(f"*Checks*\n{checks} passed")
    return fields


@dataclass(frozen=True)
class RunInsight:
    """What k6bot worked out about a finished run beyond the API's figures (``investigate_test_run``)."""

    investigation: Investigation


def verdict_line(insight: RunInsight | None) -> str | None:
    """``p95 412 ms, +18% vs baseline #1220 — regression``, or None when nothing was compared."""
    if insight is None or insight.investigation.versus is None:
        return None
    return insight.investigation.versus.headline()


def crossed_line(insight: RunInsight | None) -> str | None:
    """Every crossed threshold with its measured value (the API names only one)."""
    if insight is None:
        return None
    bad = crossed(insight.investigation.thresholds)
    if not bad:
        return None
    parts = [escape(t.threshold) + ("" if t.measured is None else f" (measured {t.measured:,.4g})") for t in bad]
    return "Thresholds crossed: " + " · ".join(parts)


def _failing_checks(metrics: RunMetrics | None, insight: RunInsight | None = None, limit: int = 3) -> str | None:
    if insight is not None:
        rates = {c.check: c.pass_rate for c in insight.investigation.checks.checks}
        names = insight.investigation.checks.failing
        if names:
            shown = [f"{escape(n)} {_pct(rates[n], 1)}" if n in rates else escape(n) for n in names]
            return "Checks failing: " + " · ".join(shown)
    if metrics is None:
        return None
    failing = sorted((c for c in metrics.checks if c.pass_rate < 1 - RATE_EPSILON), key=lambda c: c.pass_rate)[:limit]
    if not failing:
        return None
    parts = [f"{escape(c.name)} {_pct(c.pass_rate, 1)}" for c in failing]
    return "Checks below 100%: " + " · ".join(parts)


def run_finished_message(
    run: TestRun,
    *,
    test_name: str | None,
    metrics: RunMetrics | None = None,
    starter_id: str | None = None,
    insight: RunInsight | None = None,
) -> dict[str, Any]:
    """``{"text", "blocks"}`` of the notification for a finished run; ``starter_id`` is mentioned (thread).

    ``insight`` adds the verdict against the baseline / previous run, every crossed threshold and the failing
    checks; without it the message is what the API alone says.
    """
    emoji, word = outcome(run)
    name = test_label(run, test_name)
    reason = reason_of(run)
    duration = run.duration_seconds()
    greeting = f"{mention(starter_id)} " if starter_id else ""

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"{emoji} {name}: {word}", HEADER_MAX, emoji=False)},
    ]
    summary = f"{greeting}Run {_run_link(run)} of *{escape(name)}* finished: *{escape(word)}*."
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(summary, 2900)}})
    if reason:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(f":warning: *Why:* {escape(reason)}", 2900)},
            }
        )

    verdict = verdict_line(insight)
    if verdict:
        icon = {"regression": ":chart_with_upwards_trend:", "improvement": ":chart_with_downwards_trend:"}.get(
            insight.investigation.versus.overall.value if insight and insight.investigation.versus else "",
            ":bar_chart:",
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(f"{icon} {escape(verdict)}", 2900)}})
    over = crossed_line(insight)
    if over:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(f":no_entry: {over}", 2900)}})

    result_text = escape(run.result or "-")
    status_text = escape(run.status.replace("_", " "))
    facts = [
        f"*Run*\n{_run_link(run)}",
        f"*Result*\n{result_text} ({status_text})",
        f"*Duration*\n{human_duration(duration)}",
        f"*VUs*\n{run.max_vus if run.max_vus is not None else '-'}",
        f"*Cost*\n{vuh_text(run.vuh)}",
        f"*Started by*\n{_started_by(run, starter_id)}",
    ]
    blocks.append({"type": "section", "fields": [_field(f) for f in facts]})
    metric_fields = _metric_fields(metrics)
    if metric_fields:
        blocks.append({"type": "section", "fields": [_field(f) for f in metric_fields]})
    notes = []
    failing = _failing_checks(metrics, insight)
    if failing:
        notes.append(failing)
    if metrics is None:
        notes.append("Metrics were not available when this was sent.")
    elif not metric_fields:
        notes.append("No request metrics: the run sent no HTTP traffic, or has no data.")
    if notes:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(n, 2900)} for n in notes]})
    blocks.append(
        {
            "type": "actions",
            "block_id": f"k6bot_run_finished:{run.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": RERUN_ACTION,
                    "text": plain("Re-run"),
                    "value": str(run.test_id),
                },
                {
                    "type": "button",
                    "action_id": SAVE_ACTION,
                    "text": plain("Save results"),
                    "value": str(run.id),
                },
            ],
        }
    )
    return {"text": _fallback(run, name, word, reason, duration, metrics, greeting, verdict), "blocks": blocks}


def _field(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, FIELD_MAX)}


def _started_by(run: TestRun, starter_id: str | None) -> str:
    who = escape(run.started_by) if run.started_by else "an API token"
    if starter_id:
        return f"{mention(starter_id)} via k6bot"
    return who


def _fallback(
    run: TestRun,
    name: str,
    word: str,
    reason: str | None,
    duration: float | None,
    metrics: RunMetrics | None,
    greeting: str,
    verdict: str | None = None,
) -> str:
    bits = [f"{greeting}Run {run.id} of {escape(name)} finished: {escape(word)}"]
    if reason:
        bits.append(escape(reason))
    if duration is not None:
        bits.append(human_duration(duration))
    if run.vuh is not None:
        bits.append(vuh_text(run.vuh))
    if verdict:
        bits.append(escape(verdict))
    elif metrics is not None and metrics.http_req_duration_p95_ms is not None:
        bits.append(f"p95 {metrics.http_req_duration_p95_ms:,.0f} ms")
    return _clip(" · ".join(bits), 3000)


# --------------------------------------------------------------------------- the start message


def _elapsed(run: TestRun, now: datetime | None) -> str:
    elapsed = run.duration_seconds(now)
    if elapsed is None:
        return "not running yet"
    expected = f" of ~{human_duration(run.estimated_duration)}" if run.estimated_duration else ""
    share = ""
    if run.estimated_duration:
        share = f" ({min(100, round(100 * elapsed / run.estimated_duration))}%)"
    return f"{human_duration(elapsed)}{expected}{share}"


def progress_message(
    run: TestRun, *, test_name: str | None, starter_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The start message while the run goes on: status and elapsed / expected duration."""
    name = test_label(run, test_name)
    status = run.status.replace("_", " ")
    elapsed = _elapsed(run, now)
    line = f":hourglass_flowing_sand: Run {_run_link(run)} of *{escape(name)}* is *{escape(status)}*: {elapsed}"
    context = [f"Started by {mention(starter_id)}" if starter_id else "Started from Slack"]
    context.append("k6bot updates this message while the run goes on and answers in the thread when it ends.")
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, 2900)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
    ]
    return {"text": _clip(f"Run {run.id} of {escape(name)}: {escape(status)}, {elapsed}", 3000), "blocks": blocks}


def start_message_finished(run: TestRun, *, test_name: str | None, starter_id: str | None = None) -> dict[str, Any]:
    """The start message once the run has ended (the details are in the thread reply)."""
    emoji, word = outcome(run)
    name = test_label(run, test_name)
    duration = run.duration_seconds()
    line = (
        f"{emoji} Run {_run_link(run)} of *{escape(name)}* finished: *{escape(word)}* "
        f"after {human_duration(duration)}. Details in the thread."
    )
    context = f"Started by {mention(starter_id)}" if starter_id else "Started from Slack"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(line, 2900)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    return {"text": _clip(f"Run {run.id} of {escape(name)} finished: {escape(word)}", 3000), "blocks": blocks}
