"""Databases made by the pre-Alembic k6bot, frozen as SQL (``k6bot-v<version>.<sqlite|postgres>.sql``).

Each file was written once by running that code (bot/store.py of commit 12c6478) and dumping the result, so
the upgrade tests start from what real installations hold, not from what today's models would create.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

HERE = Path(__file__).parent

ROWS = {"audit_log": 1, "confirmations": 1, "leases": 1, "outbox": 1, "watched_runs": 1}
"""Rows of every table in both dumps (besides subscriptions and k6bot_meta, checked on their own)."""


def sql(version: int, kind: str) -> str:
    return (HERE / f"k6bot-v{version}.{kind}.sql").read_text()


def load_sqlite(path: Path, version: int) -> str:
    """Write the legacy database to ``path``; returns its SQLAlchemy URL."""
    with sqlite3.connect(path) as conn:
        conn.executescript(sql(version, "sqlite"))
    return f"sqlite+aiosqlite:///{path}"


async def load_postgres(url: str, version: int) -> None:
    """Load the legacy database into the (empty) PostgreSQL database at ``url``."""
    import asyncpg

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(sql(version, "postgres"))
    finally:
        await conn.close()
