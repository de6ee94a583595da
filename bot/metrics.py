"""Prometheus metrics of use: commands and tool calls, k6 Cloud API requests, Slack API calls, confirmations.

The watcher, outbox and webhook metrics are in :mod:`bot.notify.metrics`. All of them live in prometheus-client's
default registry, served at ``GET /metrics`` by ``k6bot serve`` (and ``k6bot slack --mode http``). Label values
are bounded: operations come from the registry, k6 API paths are templated (``/cloud/v6/test_runs/{id}``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from tools import observe

disable_created_metrics()  # the *_created series only add noise to k6bot's dashboards

OUTCOMES = ("ok", "pending", "denied", "cancelled", "expired", "error")
"""``ok`` it ran; ``pending`` it waits for the person's yes (or a choice); ``denied`` policy, toolset or not the
requester's; ``cancelled`` the person said no; ``expired`` the confirmation timed out; ``error`` bad input or the API
refused."""

COMMANDS = Counter(
    "k6bot_commands",
    "Commands and tool calls, by operation, front-end (slack, terminal, mcp) and outcome.",
    ["operation", "frontend", "outcome"],
)

K6_REQUESTS = Counter(
    "k6bot_k6_api_requests",
    "HTTP attempts to the k6 Cloud API, by operation (method and templated path) and status.",
    ["operation", "status"],
)
K6_DURATION = Histogram(
    "k6bot_k6_api_request_duration_seconds",
    "Latency of one HTTP attempt to the k6 Cloud API, by operation.",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
K6_RETRIES = Counter(
    "k6bot_k6_api_retries",
    "HTTP attempts to the k6 Cloud API that repeated an earlier one, by operation.",
    ["operation"],
)

SLACK_CALLS = Counter(
    "k6bot_slack_api_calls",
    "Slack Web API calls, by method and outcome (ok, or Slack's error code, or network).",
    ["method", "outcome"],
)
SLACK_RATE_LIMITED = Counter(
    "k6bot_slack_api_rate_limited", "Slack Web API calls answered HTTP 429 (rate limited), by method.", ["method"]
)

CONFIRMATIONS_PENDING = Gauge(
    "k6bot_confirmations_pending", "Confirmations waiting for their requester's yes (refreshed on each scrape)."
)
CONFIRMATIONS_EXPIRED = Counter(
    "k6bot_confirmations_expired", "Confirmations clicked or answered after they expired (nothing was done)."
)


def command(operation: str, frontend: str, outcome: str) -> None:
    COMMANDS.labels(operation, frontend, outcome).inc()


def _observe_k6(attempt: observe.ApiAttempt) -> None:
    operation = attempt.operation
    status = str(attempt.status) if attempt.status is not None else (attempt.error or "no_answer")
    K6_REQUESTS.labels(operation, status).inc()
    K6_DURATION.labels(operation).observe(attempt.seconds)
    if attempt.attempt > 1:
        K6_RETRIES.labels(operation).inc()


observe.add_observer(_observe_k6)
