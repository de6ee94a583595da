"""Fixtures for the shared bot core: a migrated in-memory store and the Actions service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.actions import Actions
from bot.audit import AuditLog
from bot.confirm import Confirmations
from bot.policy import Policy
from bot.store import Store, open_store, utcnow
from tools.registry import Toolbox


class Clock:
    """A controllable clock for expiry tests."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def actions(toolbox: Toolbox, store: Store, clock: Clock, policy: Policy) -> Actions:
    return Actions(
        toolbox, policy=policy, confirmations=Confirmations(store, ttl_seconds=600, clock=clock), audit=AuditLog(store)
    )
