"""Prometheus metrics of the watcher, the outbox and the webhook (served at ``GET /metrics``).

They live in prometheus-client's default registry, so one process exposes one set whatever starts the
notifier (``k6bot serve`` or ``k6bot slack``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # the *_created series only add noise to k6bot's dashboards

POLLS = Counter("k6bot_watcher_polls", "Watcher polls of k6 Cloud, by outcome.", ["outcome"])
POLL_REQUESTS = Counter("k6bot_watcher_list_walks", "List walks (GET /cloud/v6/test_runs, all pages) of the watcher.")
RUN_FETCHES = Counter(
    "k6bot_watcher_run_fetches", "Single-run fetches (webhook checks and runs missing from the list).", ["reason"]
)
TRANSITIONS = Counter("k6bot_watcher_transitions", "Run status transitions the watcher saw, by new status.", ["status"])
FINISHED = Counter("k6bot_watcher_runs_finished", "Finished runs the watcher handled, by what it did.", ["action"])
LAST_POLL = Gauge("k6bot_watcher_last_poll_timestamp_seconds", "Unix time of the last successful poll.")
POLL_DURATION = Histogram(
    "k6bot_watcher_poll_duration_seconds",
    "How long one watcher poll took (list walk, transitions, queuing notifications), failed ones too.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
LEASE_HELD = Gauge("k6bot_watcher_lease_held", "1 while this process holds the watcher lease (polls k6 Cloud).")

SENT = Counter("k6bot_notifications_sent", "Slack messages the outbox delivered, by kind.", ["kind"])
FAILED = Counter(
    "k6bot_notifications_failed", "Slack messages given up on, by kind and Slack error.", ["kind", "error"]
)
RETRIED = Counter(
    "k6bot_notifications_retried", "Slack deliveries scheduled for another attempt, by reason.", ["reason"]
)
NOTIFY_DELAY = Histogram(
    "k6bot_notification_delay_seconds",
    "Time from a run's end (as k6 Cloud reports it) to its run-finished message accepted by Slack.",
    buckets=(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0),
)
BACKLOG = Gauge("k6bot_outbox_backlog", "Outbox messages waiting to be delivered.")

WEBHOOKS = Counter("k6bot_webhook_requests", "POST /k6/webhook requests, by outcome.", ["outcome"])


def kind_of(dedupe_key: str) -> str:
    """The message kind from its dedupe key (``finished:…``, ``progress:…``, ``final:…``)."""
    return dedupe_key.split(":", 1)[0] or "other"
