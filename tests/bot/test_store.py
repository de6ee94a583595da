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
