"""Alembic's environment for k6bot: runs migrations on the connection k6bot hands over.

k6bot calls Alembic on a connection it opened itself (``config.attributes["connection"]``, already inside the
transaction and, on PostgreSQL, holding the advisory lock), so nothing here opens or commits anything. Run
from the ``alembic`` command line (developers, ``bot/migrations/alembic.ini``), it opens the database
``K6BOT_DATABASE_URL`` names instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.migrations import VERSION_TABLE
from bot.store import Base, declare_postgresql_options

config = context.config


def run_on(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        declare_postgresql_options()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_command_line() -> None:
    from bot.config import BotSettings
    from bot.store import Store

    store = Store(BotSettings().sqlalchemy_url)
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await store.close()


if context.is_offline_mode():
    raise SystemExit("k6bot's migrations run online only: `k6bot db upgrade`.")
connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(_run_from_command_line())
