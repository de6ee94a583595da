"""Durable state: SQLAlchemy 2 (async) on SQLite by default, PostgreSQL for several replicas.

Holds pending confirmations (so any replica can handle a click), the audit log, subscriptions, the runs the
watcher follows, the notification outbox and the watcher's lease. The schema is created and upgraded at
start by Alembic (the revisions in ``bot/migrations``; ``k6bot db upgrade`` / ``k6bot db current`` by hand);
a lock keeps two replicas from migrating at once. The models here and the revisions must agree: a test
compares them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

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
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

from bot import migrations
from bot.migrations import SchemaError
from tools.errors import K6BotError

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
    """Key/value rows of k6bot's own state (e.g. the watcher's cursor)."""

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
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Where a Slack click came from and is answered: channel, thread, preview message ts, response_url."""
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """Set just before the API call: without it a crashed intent certainly sent nothing."""
    followup: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    """``pending`` once the operation ran and its announcement / watch / final preview are owed; ``delivered``."""


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

    ``uq_subscription_channel_test`` cannot hold one every-run subscription per channel (their
    ``load_test_id`` is NULL, and NULLs are never equal): the partial index ``uq_subscription_channel_all_runs``
    does (revision 0002).
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("channel_id", "load_test_id", name="uq_subscription_channel_test"),
        Index(
            "uq_subscription_channel_all_runs",
            "channel_id",
            unique=True,
            sqlite_where=text("load_test_id IS NULL"),
            # postgresql_where: see declare_postgresql_options (passed here, it loads SQLAlchemy's PostgreSQL
            # dialect, ~2 MiB, in every process, to check the keyword)
        ),
    )

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


# --------------------------------------------------------------------------- opening and migrating

_ADVISORY_LOCK_KEY = 0x6B36626F74  # "k6bot"
CONNECT_TIMEOUT_SECONDS = 10.0


class DatabaseUnavailable(K6BotError):
    """k6bot's database cannot be opened or used; ``str()`` says which one and what to check, in one line."""


def database_problem(exc: BaseException, url: str) -> str:
    """One line about why the database at ``url`` failed (its password hidden), naming the setting to check."""
    shown = _shown_url(url)
    if isinstance(exc, SchemaError | DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, TimeoutError):
        why = f"no answer within {CONNECT_TIMEOUT_SECONDS:g} s"
    elif isinstance(exc, DBAPIError) and exc.orig is not None:
        why = _first_line(exc.orig) or type(exc.orig).__name__
    elif isinstance(exc, ConnectionRefusedError):
        why = "connection refused (is the server running, and on that port?)"
    elif isinstance(exc, OSError):
        why = _first_line(exc) or type(exc).__name__
    else:
        why = f"{type(exc).__name__}: {_first_line(exc)}"
    return f"Cannot open k6bot's database {shown}: {why}. Check K6BOT_DATABASE_URL."


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def declare_postgresql_options() -> None:
    """The PostgreSQL side of the partial index ``uq_subscription_channel_all_runs`` (``WHERE load_test_id IS
    NULL``, as on SQLite), declared once a PostgreSQL database is in use: as ``postgresql_where=`` in the
    model, SQLAlchemy would load its PostgreSQL dialect in every process (SQLite ones too) to check the keyword.
    Idempotent; :class:`Store` calls it for a PostgreSQL URL, the migrations' environment for a PostgreSQL
    connection."""
    table: Table = Subscription.__table__  # type: ignore[assignment]
    for index in table.indexes:
        if index.name == "uq_subscription_channel_all_runs":
            index.dialect_options["postgresql"]["where"] = text("load_test_id IS NULL")


class Store:
    """The database: an async engine, sessions, and the migrations that keep its schema current."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
            if ":memory:" in url:
                kwargs["poolclass"] = StaticPool  # one connection, or every session sees an empty database
        elif url.startswith("postgresql"):
            kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT_SECONDS}  # asyncpg's default is 60 s
        try:
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        except Exception as exc:  # an unknown scheme or driver, a malformed URL
            raise DatabaseUnavailable(
                f"K6BOT_DATABASE_URL is not a database k6bot can use ({_shown_url(url)}: {_first_line(exc)}). "
                "Use a SQLite file path or postgresql+asyncpg://user:password@host/database."
            ) from None
        if self.is_postgres:
            declare_postgresql_options()
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, or SQLite in memory)."""
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)

    def check_directory(self) -> None:
        """A SQLite file's directory must exist (SQLite would only say "unable to open database file")."""
        path = self.sqlite_path
        if path is not None and not path.parent.is_dir():
            raise DatabaseUnavailable(
                f"Cannot open k6bot's database {self.shown_url}: the directory {path.parent} does not exist. "
                "Check K6BOT_DATABASE_URL."
            )

    @property
    def shown_url(self) -> str:
        """The URL with its password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.shown_url!r})"

    async def migrate(self) -> str:
        """Create or upgrade the schema to the newest revision; returns it.

        One migrator at a time: on PostgreSQL under a transaction-level advisory lock, on SQLite under the
        write lock ``BEGIN IMMEDIATE`` takes. A replica that waited finds the schema current and does nothing.
        Raises :class:`DatabaseUnavailable` (one line) when the database cannot be reached or upgraded.
        """
        self.check_directory()
        try:
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif self.is_postgres:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
                found, now = await conn.run_sync(migrations.upgrade)
                await conn.commit()
        except Exception as exc:
            raise DatabaseUnavailable(database_problem(exc, self.url)) from exc
        if found.current != now:
            log.info("Upgraded k6bot's database %s from %s to revision %s", self.shown_url, found.short(), now)
        return now

    async def schema(self) -> migrations.SchemaState:
        """Where the schema stands, changing nothing (for ``k6bot db current`` and ``k6bot doctor``)."""
        path = self.sqlite_path
        if path is not None and not path.exists():  # connecting would create the file
            return migrations.SchemaState(current=None, head=migrations.head())
        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(migrations.state)
        except Exception as exc:
            raise DatabaseUnavailable(database_problem(exc, self.url)) from exc

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on an exception."""
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    # Turning a new file to WAL needs it to itself for a moment, and SQLite answers "locked" at once rather
    # than wait: replicas creating the database together try again, briefly (it stays WAL once set).
    for attempt in Retrying(
        retry=retry_if_exception(lambda exc: "locked" in str(exc)),
        stop=stop_after_delay(30),
        wait=wait_random(0.02, 0.2),
        reraise=True,
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def open_store(url: str) -> Store:
    """A migrated store for ``url``; raises :class:`DatabaseUnavailable` (one line) when that fails."""
    store = Store(url)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store
