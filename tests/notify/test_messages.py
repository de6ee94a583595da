"""Block Kit of the run-finished and progress messages: the facts, the buttons, and escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.notify.messages import (
    RERUN_ACTION,
    SAVE_ACTION,
    is_failure,
    progress_message,
    run_finished_message,
    start_message_finished,
)
from tools.models import TestRun
from tools.outputs import CheckResult, RunMetrics

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_run(**overrides: Any) -> TestRun:
    data: dict[str, Any] = {
        "id": 4321,
        "test_id": 501,
        "project_id": 77,
        "started_by": "maria.garcia@example.com",
        "created": T0.isoformat(),
        "ended": (T0 + timedelta(minutes=31)).isoformat(),
        "status": "completed",
        "result": "passed",
        "cost": {"total_vuh": 25.5},
        "max_vus": 50,
        "estimated_duration": 1800,
        "execution_duration": 1800,
        "status_history": [
            {"type": "created", "entered": T0.isoformat()},
            {"type": "running", "entered": (T0 + timedelta(seconds=27)).isoformat()},
            {"type": "completed", "entered": (T0 + timedelta(minutes=31)).isoformat()},
        ],
        "test_run_details_page_url": "https://k6bot-demo.grafana.net/a/k6-app/runs/4321",
    }
    data.update(overrides)
    return TestRun.model_validate(data)


METRICS = RunMetrics(
    test_run_id=4321,
    http_req_duration_p95_ms=312.4,
    http_req_duration_p99_ms=540.0,
    http_req_rate=118.25,
    http_req_failed_rate=0.0123,
    checks=[CheckResult(name="status is 200", pass_rate=0.99), CheckResult(name="body ok", pass_rate=1.0)],
    checks_pass_rate=0.995,
)


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_passed_run_has_the_figures_that_matter_and_both_buttons() -> None:
    message = run_finished_message(make_run(), test_name="Orders API Soak Test", metrics=METRICS)
    text = all_text(message)
    assert message["blocks"][0]["type"] == "header"
    assert message["blocks"][0]["text"]["text"] == "✅ Orders API Soak Test: passed"
    for fact in (
        "<https://k6bot-demo.grafana.net/a/k6-app/runs/4321|#4321>",
        "30m",
        "*VUs*\\n50",
        "25.5 VUH",
        "maria.garcia@example.com",
        "312 ms",
        "118.2 req/s",
        "1.23% of requests failed",
        "99.50% passed",
        "status is 200 99.0%",
    ):
        assert fact in text, fact
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    buttons = {e["action_id"]: e["value"] for e in actions["elements"]}
    assert buttons == {RERUN_ACTION: "501", SAVE_ACTION: "4321"}
    assert message["text"].startswith("Run 4321 of Orders API Soak Test finished: passed")
    assert "Why:" not in text


def test_failed_run_shows_the_reason_prominently() -> None:
    run = make_run(
        result="failed",
        result_details={"type": "failed", "message": "Thresholds have been crossed: http_req_duration: p(95)<500"},
    )
    message = run_finished_message(run, test_name="Checkout Spike")
    assert message["blocks"][0]["text"]["text"] == "❌ Checkout Spike: failed"
    why = message["blocks"][2]["text"]["text"]
    assert why.startswith(":warning: *Why:*") and "Thresholds have been crossed" in why
    assert "Metrics were not available" in all_text(message)
    assert is_failure(run)


def test_aborted_runs_say_by_whom_or_by_what_with_the_api_code() -> None:
    by_user = make_run(
        status="aborted",
        result="error",
        status_details={"type": "aborted", "entered": T0.isoformat(), "extra": {"by_user": "lena@example.com"}},
    )
    text = all_text(run_finished_message(by_user, test_name="Login"))
    assert "🛑 Login: aborted" in text and "aborted by lena@example.com" in text

    by_system = make_run(
        status="aborted",
        result="error",
        status_details={
            "type": "aborted",
            "entered": T0.isoformat(),
            "extra": {"message": "aborted by system: a load generator stopped responding", "code": 6},
        },
    )
    text = all_text(run_finished_message(by_system, test_name="Login"))
    assert "aborted by system: a load generator stopped responding" in text and "code 6" in text


def test_every_api_and_user_string_is_escaped() -> None:
    nasty = "<!channel> *Orders* <@U0BOSS> & <https://evil.example|click>"
    run = make_run(
        started_by="<!here>@example.com",
        status="aborted",
        result="error",
        status_details={"type": "aborted", "entered": T0.isoformat(), "extra": {"message": "<!everyone> boom"}},
    )
    metrics = RunMetrics(test_run_id=4321, checks=[CheckResult(name="<!channel> check", pass_rate=0.5)])
    message = run_finished_message(run, test_name=nasty, metrics=metrics, starter_id="U0MARIA")
    # plain_text (the header, button labels) is never parsed for mentions or links; mrkdwn is, so escape it.
    header = message["blocks"][0]["text"]
    assert header["type"] == "plain_text"
    text = all_text({**message, "blocks": message["blocks"][1:]})
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<https://evil.example"):
        assert raw not in text, raw
    assert "&lt;!channel&gt;" in text
    assert "<@U0MARIA>" in message["text"]  # the starter is mentioned on purpose
    # A bogus starter id cannot inject a mention either.
    sneaky = run_finished_message(make_run(), test_name="x", starter_id="<!channel>")
    assert "<!channel>" not in all_text(sneaky)


def test_progress_and_final_start_message() -> None:
    running = make_run(status="running", result=None, ended=None, execution_duration=600)
    message = progress_message(running, test_name="Orders API Soak Test", starter_id="U0MARIA")
    assert "is *running*: 10m of ~30m (33%)" in message["blocks"][0]["text"]["text"]
    assert message["text"] == "Run 4321 of Orders API Soak Test: running, 10m of ~30m (33%)"
    final = start_message_finished(make_run(), test_name="Orders API Soak Test", starter_id="U0MARIA")
    assert "finished: *passed*" in final["blocks"][0]["text"]["text"]
    assert "Details in the thread" in final["blocks"][0]["text"]["text"]


def test_headers_fit_slack_limits() -> None:
    message = run_finished_message(make_run(), test_name="x" * 400)
    assert len(message["blocks"][0]["text"]["text"]) <= 150
    assert len(message["text"]) <= 3000


def test_the_header_is_escaped_like_every_other_plain_text() -> None:
    message = run_finished_message(make_run(), test_name="R&D <!here> checkout")
    header = message["blocks"][0]["text"]
    assert header["type"] == "plain_text"
    assert header["text"] == "✅ R&amp;D &lt;!here&gt; checkout: passed"
    long = run_finished_message(make_run(), test_name="&" * 300)["blocks"][0]["text"]["text"]
    assert len(long) <= 150 and long.endswith("…") and long.count("&") == long.count("&amp;")
    buttons = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["type"] for b in buttons] == ["plain_text", "plain_text"]


def test_only_checks_really_below_100_percent_are_listed_and_never_as_100() -> None:
    metrics = RunMetrics(
        test_run_id=4321,
        checks=[
            CheckResult(name="almost", pass_rate=0.99996),
            CheckResult(name="rounding noise", pass_rate=1 - 1e-12),
            CheckResult(name="all good", pass_rate=1.0),
            CheckResult(name="half", pass_rate=0.5),
        ],
        checks_pass_rate=0.99996,
        http_req_failed_rate=0.00001,
    )
    message = run_finished_message(make_run(), test_name="x", metrics=metrics)
    text = all_text(message)
    notes = next(b for b in message["blocks"] if b["type"] == "context")
    line = notes["elements"][0]["text"]
    assert line == "Checks below 100%: half 50.0% · almost 99.996%"
    assert "100.0%" not in line and "rounding noise" not in line and "all good" not in line
    assert "99.996% passed" in text  # not "100.00% passed" while a check fails
    assert "0.001% of requests failed" in text  # not "0.00%" while some failed
