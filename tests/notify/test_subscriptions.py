"""Subscriptions: one every-run subscription per channel, even when `/k6 subscribe` arrives twice at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bot.notify.subscriptions import Subscriptions
from bot.store import Store, Subscription, open_store
from tests.bot import legacy
from tests.notify.conftest import DATABASES

CHANNEL = "C0LOADTEST"


async def rows(store: Store) -> list[Subscription]:
    async with store.session() as session:
        return list((await session.execute(select(Subscription).order_by(Subscription.id))).scalars())


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_concurrent_subscribes_make_one_row_and_later_commands_work(store: Store) -> None:
    subs = Subscriptions(store)
    every = await asyncio.gather(*(subs.subscribe(CHANNEL, created_by=f"U0{n}") for n in range(12)))
    assert [new for _, new in every].count(True) == 1
    assert [(r.channel_id, r.load_test_id) for r in await rows(store)] == [(CHANNEL, None)]
    one_test = await asyncio.gather(
        *(subs.subscribe(CHANNEL, load_test_id=501, load_test_name="Orders API Soak Test") for _ in range(6))
    )
    assert [new for _, new in one_test].count(True) == 1
    assert [(r.channel_id, r.load_test_id) for r in await rows(store)] == [(CHANNEL, None), (CHANNEL, 501)]

    row, new = await subs.subscribe(CHANNEL, failures_only=True)  # an update, not MultipleResultsFound
    assert not new and row.failures_only
    assert [(r.load_test_id, r.failures_only) for r in await rows(store)] == [(None, True), (501, False)]
    assert await subs.unsubscribe(CHANNEL) == 1
    assert [r.load_test_id for r in await rows(store)] == [501]
    _row, new = await subs.subscribe(CHANNEL)
    assert new


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_the_database_refuses_a_second_every_run_subscription(store: Store) -> None:
    async with store.session() as session:
        session.add(Subscription(channel_id=CHANNEL))
    with pytest.raises(IntegrityError):
        async with store.session() as session:
            session.add(Subscription(channel_id=CHANNEL))
    async with store.session() as session:  # other channels, and per-test rows, are not affected
        session.add(Subscription(channel_id="C0OTHER"))
        session.add(Subscription(channel_id=CHANNEL, load_test_id=501))
        session.add(Subscription(channel_id=CHANNEL, load_test_id=502))
    assert len(await rows(store)) == 4


async def test_migration_2_removes_duplicates_of_an_existing_database(tmp_path: Path) -> None:
    """A version-1 database (made before Alembic) with the duplicates the race could leave: the newest stays."""
    url = legacy.load_sqlite(tmp_path / "k6bot.db", 1)
    upgraded = await open_store(url)
    try:
        found = [(r.channel_id, r.load_test_id, r.failures_only) for r in await rows(upgraded)]
        assert found == [(CHANNEL, None, True), ("C0OTHER", None, False), (CHANNEL, 501, False)]
        async with upgraded.session() as session:
            indexes = {row[1] for row in await session.execute(text("PRAGMA index_list(subscriptions)"))}
        assert "uq_subscription_channel_all_runs" in indexes
        row, new = await Subscriptions(upgraded).subscribe(CHANNEL)
        assert not new and not row.failures_only
    finally:
        await upgraded.close()
