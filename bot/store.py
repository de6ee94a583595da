"""Durable state: SQLAlchemy 2 (async) on SQLite by default, PostgreSQL for several replicas.

Holds pending confirmations (so any replica can handle a click), the audit log, subscriptions, the runs the
watcher follows, the notification outbox and the watcher's lease. The schema is created and upgraded at
start through numbered migrations recorded in the ``k6bot_meta`` table; on PostgreSQL a transaction-level
advisory lock keeps two replicas from migrating at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

log = logging.getLogger("k6bot.store")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC date-times on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    __tablename__ = "k6bot_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Confirmation(Base):
    """A run / stop / admin request waiting for (or past) a person's decision."""

    __tablename__ = "confirmations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # also the start's idempotency key
    operation: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    prepared: Mapped[dict[str, Any]] = mapped_column(JSON)
    frontend: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditEntry(Base):
    """One decision about a write: who, what, target, decision, result, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    frontend: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    operation: Mapped[str] = mapped_column(String(100))
    safety: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500), default="")
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[str] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    confirmation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Subscription(Base):
    """A Slack channel that wants to hear about finished runs (of one test, or of all).

    Besides ``uq_subscription_channel_test``, migration 2 adds the partial unique index
    ``uq_subscription_channel_all_runs`` on ``channel_id WHERE load_test_id IS NULL``: one every-run
    subscription per channel.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "load_test_id", name="uq_subscription_channel_test"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(100), index=True)
    load_test_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    load_test_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    failures_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchedRun(Base):
    """A run the watcher follows until it finishes, with where to report it."""

    __tablename__ = "watched_runs"

    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    load_test_id: Mapped[int] = mapped_column(BigInteger, index=True)
    load_test_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    origin: Mapped[str] = mapped_column(String(20), default="subscription")
    channel_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    thread_ts: Mapped[str | None] = mapped_column(String(50), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(50), nullable=True)
    starter_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(30), default="created")
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    estimated_duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    progress_updated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    notified: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A Slack message recorded before it is sent and marked once Slack says ok: nothing lost, nothing twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    method: Mapped[str] = mapped_column(String(50), default="chat.postMessage")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    slack_ts: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Lease(Base):
    """A named lease (e.g. "watcher"): one holder at a time, passing on when the holder stops renewing it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


# --------------------------------------------------------------------------- migrations

META_TABLE = cast(Table, Meta.__table__)

Migration = Callable[[Connection], None]


def _v1_initial(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[t for name, t in Base.metadata.tables.items() if name != Meta.__tablename__])


def _v2_one_all_runs_subscription_per_channel(conn: Connection) -> None:
    """At most one every-run subscription per channel.

    ``uq_subscription_channel_test`` cannot cover them: its ``load_test_id`` is NULL, and NULLs are never
    equal. Two ``/k6 subscribe`` at the same moment could each add one; keep the newest, then let a partial
    unique index (SQLite and PostgreSQL alike) refuse another.
    """
    conn.exec_driver_sql(
        "DELETE FROM subscriptions WHERE load_test_id IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM subscriptions WHERE load_test_id IS NULL GROUP BY channel_id)"
    )
    conn.exec_driver_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS uq_subscription_channel_all_runs "
        "ON subscriptions (channel_id) WHERE load_test_id IS NULL"
    )


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial schema", _v1_initial),
    (2, "one every-run subscription per channel", _v2_one_all_runs_subscription_per_channel),
]
"""Append new steps here (number, description, function); never edit a released one."""

SCHEMA_VERSION = MIGRATIONS[-1][0]
_ADVISORY_LOCK_KEY = 0x6B36626F74  # "k6bot"


class Store:
    """The database: an async engine, sessions, and the migrations that keep its schema current."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            if ":memory:" in url:
                kwargs["poolclass"] = StaticPool  # one connection, or every session sees an empty database
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    async def migrate(self) -> int:
        """Create or upgrade the schema; returns the version now in place."""
        async with self.engine.begin() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            await conn.run_sync(lambda c: META_TABLE.create(c, checkfirst=True))
            row = (await conn.execute(select(Meta.value).where(Meta.key == "schema_version"))).scalar_one_or_none()
            current = int(row) if row is not None else 0
            for number, description, step in MIGRATIONS:
                if number <= current:
                    continue
                log.info("Upgrading the k6bot database to version %d: %s", number, description)
                await conn.run_sync(step)
                current = number
            if row is None:
                await conn.execute(META_TABLE.insert().values(key="schema_version", value=str(current)))
            else:
                await conn.execute(META_TABLE.update().where(Meta.key == "schema_version").values(value=str(current)))
        return current

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on an exception."""
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def open_store(url: str) -> Store:
    """A migrated store for ``url``."""
    store = Store(url)
    await store.migrate()
    return store
