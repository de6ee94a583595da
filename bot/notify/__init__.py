"""Run-finished notifications: subscriptions, the watcher that follows runs, the outbox that delivers to Slack."""
