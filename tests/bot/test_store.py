"""Where the database is: K6BOT_DATABASE_URL as a URL or a plain path (migrations: test_migrations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import database_url_from


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgresql://u:p@db/k6bot", "postgresql+asyncpg://u:p@db/k6bot"),
        ("postgres://u:p@db/k6bot", "postgresql+asyncpg://u:p@db/k6bot"),
        ("postgresql+asyncpg://u:p@db/k6bot", "postgresql+asyncpg://u:p@db/k6bot"),
        ("sqlite:////var/lib/k6bot.db", "sqlite+aiosqlite:////var/lib/k6bot.db"),
    ],
)
def test_database_urls(value: str, expected: str) -> None:
    assert database_url_from(value) == expected


def test_a_plain_path_or_nothing_means_sqlite(tmp_path: Path) -> None:
    assert (
        database_url_from(str(tmp_path / "state" / "bot.db")) == f"sqlite+aiosqlite:///{tmp_path / 'state' / 'bot.db'}"
    )
    assert database_url_from(None).startswith("sqlite+aiosqlite:///") and database_url_from(None).endswith("k6bot.db")


def _all_runs_index_ddl(dialect: object) -> str:
    from sqlalchemy.schema import CreateIndex

    from bot.store import Subscription

    (index,) = [i for i in Subscription.__table__.indexes if i.name == "uq_subscription_channel_all_runs"]
    return str(CreateIndex(index).compile(dialect=dialect))  # type: ignore[arg-type]


def test_the_all_runs_index_is_partial_on_sqlite_and_on_postgresql_once_a_postgresql_store_is_open() -> None:
    """The model leaves ``postgresql_where`` out (it would load SQLAlchemy's PostgreSQL dialect in every process,
    ~2 MiB of an idle `k6bot serve`; tests/test_imports.py checks it stays out); a PostgreSQL Store declares it."""
    from sqlalchemy.dialects import postgresql, sqlite

    from bot.store import Store

    assert _all_runs_index_ddl(sqlite.dialect()).endswith("WHERE load_test_id IS NULL")
    Store("postgresql+asyncpg://k6bot@db/k6bot")  # no connection is made until it is used
    assert _all_runs_index_ddl(postgresql.dialect()) == (
        "CREATE UNIQUE INDEX uq_subscription_channel_all_runs ON subscriptions (channel_id) WHERE load_test_id IS NULL"
    )
    Store("postgresql+asyncpg://k6bot@db/k6bot")  # twice: the same
    assert _all_runs_index_ddl(postgresql.dialect()).count("WHERE") == 1


async def test_every_pooled_sqlite_connection_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    from sqlalchemy import text

    from bot.store import open_store

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}")
    try:
        async with store.engine.connect() as one, store.engine.connect() as two:  # two pooled connections
            for connection in (one, two):
                assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await store.close()
