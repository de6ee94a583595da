"""The runs k6bot follows until they finish, and where to report each one."""

from __future__ import annotations

from typing import Literal

from bot.store import Store, WatchedRun

Origin = Literal["slack", "mcp", "terminal", "subscription", "webhook", "seen"]
"""``seen``: a run the watcher noticed in its list walk that nobody asked about (yet); it keeps a row for
every run it has seen so it can tell a run that finished while k6bot was down from an old one."""


class Watchlist:
    """Add runs to follow (e.g. a run started from Slack, with the thread to answer in) and read them back."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def watch(
        self,
        run_id: int,
        *,
        load_test_id: int,
        load_test_name: str | None = None,
        origin: Origin = "subscription",
        channel_id: str | None = None,
        thread_ts: str | None = None,
        message_ts: str | None = None,
        starter_id: str | None = None,
        status: str = "created",
        estimated_duration: float | None = None,
    ) -> WatchedRun:
        """Follow ``run_id``. Calling it again for the same run keeps the first report target unless it had none.

        For a run started from Slack pass ``channel_id``, ``message_ts`` (the start message, which the
        watcher updates in place with the run's progress) and ``thread_ts`` when that message is itself
        in a thread; the run-finished reply goes to ``thread_ts or message_ts`` and mentions
        ``starter_id``. The watcher picks the row up at its next poll (or at once via a webhook).
        """
        async with self.store.session() as session:
            row = await session.get(WatchedRun, run_id)
            if row is None:
                row = WatchedRun(
                    run_id=run_id,
                    load_test_id=load_test_id,
                    load_test_name=load_test_name,
                    origin=origin,
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    message_ts=message_ts,
                    starter_id=starter_id,
                    status=status,
                    estimated_duration=estimated_duration,
                )
                session.add(row)
            elif row.channel_id is None and channel_id is not None:
                row.origin, row.channel_id, row.thread_ts = origin, channel_id, thread_ts
                row.message_ts, row.starter_id = message_ts, starter_id
            return row
