"""The runs k6bot follows until they finish, and where to report each one."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import update

from bot.notify.db import insert_ignore
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
        values = {
            "run_id": run_id,
            "load_test_id": load_test_id,
            "load_test_name": load_test_name,
            "origin": origin,
            "channel_id": channel_id,
            "thread_ts": thread_ts,
            "message_ts": message_ts,
            "starter_id": starter_id,
            "status": status,
            "estimated_duration": estimated_duration,
        }
        async with self.store.session() as session:
            # One statement that cannot collide with the watcher, which inserts the rows of runs it sees in
            # its list walk at the same moment (a get-then-add here raised UNIQUE constraint failed).
            inserted = await insert_ignore(session, WatchedRun, values, ["run_id"])
            if not inserted and channel_id is not None:
                await session.execute(
                    update(WatchedRun)
                    .where(WatchedRun.run_id == run_id, WatchedRun.channel_id.is_(None))
                    .values(
                        origin=origin,
                        channel_id=channel_id,
                        thread_ts=thread_ts,
                        message_ts=message_ts,
                        starter_id=starter_id,
                    )
                )
            row = await session.get(WatchedRun, run_id, populate_existing=True)
            assert row is not None
            return row
