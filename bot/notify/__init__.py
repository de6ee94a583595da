"""Run-finished notifications: subscriptions, the watcher that follows runs, the outbox that delivers to Slack.

Start a :class:`~bot.notify.notifier.Notifier` in any long-running front-end (``k6bot serve``,
``k6bot slack``); see the README's notifications section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.notify.notifier import Notifier

__all__ = ["Notifier"]


def __getattr__(name: str) -> Any:
    # Lazy, so `bot.notify.subscriptions` can be imported without slack_sdk / aiohttp being loaded.
    if name == "Notifier":
        from bot.notify.notifier import Notifier

        return Notifier
    raise AttributeError(name)
