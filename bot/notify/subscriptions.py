"""Which Slack channels want to hear about which runs."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.store import Store, Subscription


class Subscriptions:
    """Subscribe a channel to every run, or to one load test's runs, optionally failures only."""

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
        """Add (or update) the channel's subscription; returns it and whether it is new."""
        async with self.store.session() as session:
            query = select(Subscription).where(Subscription.channel_id == channel_id)
            query = query.where(
                Subscription.load_test_id.is_(None)
                if load_test_id is None
                else Subscription.load_test_id == load_test_id
            )
            existing = (await session.execute(query)).scalar_one_or_none()
            if existing is not None:
                existing.failures_only = failures_only
                existing.load_test_name = load_test_name or existing.load_test_name
                return existing, False
            row = Subscription(
                channel_id=channel_id,
                load_test_id=load_test_id,
                load_test_name=load_test_name,
                failures_only=failures_only,
                created_by=created_by,
            )
            session.add(row)
            return row, True

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
