"""The schema is created and upgraded at start, idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot import store as store_module
from bot.config import database_url_from
from bot.store import SCHEMA_VERSION, Store, open_store


async def test_migrate_is_idempotent_and_records_the_version(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}"
    first = await open_store(url)
    assert await first.migrate() == SCHEMA_VERSION
    await first.close()
    second = Store(url)
    assert await second.migrate() == SCHEMA_VERSION
    async with second.session() as session:
        version = (await session.execute(text("SELECT value FROM k6bot_meta WHERE key='schema_version'"))).scalar_one()
        tables = {row[0] for row in await session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    await second.close()
    assert int(version) == SCHEMA_VERSION
    assert {"confirmations", "audit_log", "subscriptions", "watched_runs", "outbox", "leases"} <= tables


async def test_a_new_migration_step_upgrades_an_existing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}"
    await (await open_store(url)).close()

    def add_column(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("ALTER TABLE subscriptions ADD COLUMN test_marker TEXT")

    monkeypatch.setattr(
        store_module, "MIGRATIONS", [*store_module.MIGRATIONS, (SCHEMA_VERSION + 1, "test step", add_column)]
    )
    upgraded = Store(url)
    assert await upgraded.migrate() == SCHEMA_VERSION + 1
    async with upgraded.session() as session:
        columns = {row[1] for row in await session.execute(text("PRAGMA table_info(subscriptions)"))}
    await upgraded.close()
    assert "test_marker" in columns


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
