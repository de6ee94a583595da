"""Which Slack channels want to hear about which runs."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bot.store import Store, Subscription

log = logging.getLogger("k6bot.notify")

_ATTEMPTS = 5


def _of(channel_id: str, load_test_id: int | None) -> Select[Subscription]:
    query = select(Subscription).where(Subscription.channel_id == channel_id)
    return query.where(
        Subscription.load_test_id.is_(None) if load_test_id is None else Subscription.load_test_id == load_test_id
    )


class Subscriptions:
    """Subscribe a channel to every run, or to one load test's runs, optionally failures only.

    A channel has at most one subscription per load test and one to every run: the database enforces it
    (``uq_subscription_channel_test``, and the partial unique index ``uq_subscription_channel_all_runs`` for
    the every-run one, whose ``load_test_id`` is NULL), so two ``/k6 subscribe`` at the same moment end up
    as one row.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def subscribe(
        self,
        channel_id: str,
        *,
        load_test_id: int | None = None,
        load_test_name: str | None = None,
        failures_only: bool = False,
        created_by: str | None = None,
    ) -> tuple[Subscription, bool]:
        """Add (or update) the channel's subscription; returns it and whether it is new.

        Insert-or-update: when another request inserts the same subscription between our look and our
        insert, the unique index refuses ours (IntegrityError) and the row that won is updated instead.
        """
        for _ in range(_ATTEMPTS):
            try:
                async with self.store.session() as session:
                    existing = await self._update(session, channel_id, load_test_id, load_test_name, failures_only)
                    if existing is not None:
                        return existing, False
                    row = Subscription(
                        channel_id=channel_id,
                        load_test_id=load_test_id,
                        load_test_name=load_test_name,
                        failures_only=failures_only,
                        created_by=created_by,
                    )
                    session.add(row)
                    await session.flush()
                return row, True
            except IntegrityError:
                log.debug("Subscription of %s to %s was added concurrently; updating it", channel_id, load_test_id)
        raise RuntimeError(f"Could not subscribe {channel_id}: the subscription kept changing underneath")

    @staticmethod
    async def _update(
        session: AsyncSession,
        channel_id: str,
        load_test_id: int | None,
        load_test_name: str | None,
        failures_only: bool,
    ) -> Subscription | None:
        existing = (await session.execute(_of(channel_id, load_test_id))).scalar_one_or_none()
        if existing is not None:
            existing.failures_only = failures_only
            existing.load_test_name = load_test_name or existing.load_test_name
        return existing

    async def remove(self, channel_id: str, *, load_test_id: int | None = None) -> list[Subscription]:
        """Remove the channel's subscription to one load test, or (``load_test_id=None``) all of them.

        Returns what was removed, so the caller can say so.
        """
        async with self.store.session() as session:
            query = select(Subscription).where(Subscription.channel_id == channel_id)
            if load_test_id is not None:
                query = query.where(Subscription.load_test_id == load_test_id)
            rows = list((await session.execute(query.order_by(Subscription.id))).scalars())
            if rows:
                await session.execute(delete(Subscription).where(Subscription.id.in_([r.id for r in rows])))
            return rows

    async def unsubscribe(self, channel_id: str, *, load_test_id: int | None = None, everything: bool = False) -> int:
        """Remove the channel's subscription to one test (or its all-runs one); ``everything`` removes all."""
        async with self.store.session() as session:
            query = delete(Subscription).where(Subscription.channel_id == channel_id)
            if not everything:
                query = query.where(
                    Subscription.load_test_id.is_(None)
                    if load_test_id is None
                    else Subscription.load_test_id == load_test_id
                )
            result = await session.execute(query)
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def of_channel(self, channel_id: str) -> list[Subscription]:
        async with self.store.session() as session:
            rows = await session.execute(
                select(Subscription).where(Subscription.channel_id == channel_id).order_by(Subscription.id)
            )
            return list(rows.scalars())

    async def all(self) -> list[Subscription]:
        async with self.store.session() as session:
            return list((await session.execute(select(Subscription).order_by(Subscription.id))).scalars())
