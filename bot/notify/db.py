"""Small portable SQL helpers for the notifier: insert-if-absent and the ``k6bot_meta`` key/value rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import Base, Meta


async def insert_ignore(session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: list[str]) -> bool:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING``; True when the row was inserted.

    On PostgreSQL and SQLite the unique constraint decides atomically, so two replicas (or a retry after a
    crash) inserting the same key end up with one row and no error.
    """
    table: Any = model.__table__
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded already with a PostgreSQL engine; not on SQLite

        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover - k6bot supports SQLite and PostgreSQL
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def meta_get(session: AsyncSession, key: str) -> str | None:
    return (await session.execute(select(Meta.value).where(Meta.key == key))).scalar_one_or_none()


async def meta_set(session: AsyncSession, key: str, value: str) -> None:
    result = await session.execute(update(Meta).where(Meta.key == key).values(value=value))
    if not result.rowcount:  # type: ignore[attr-defined]
        await insert_ignore(session, Meta, {"key": key, "value": value}, ["key"])
        await session.execute(update(Meta).where(Meta.key == key).values(value=value))


async def meta_delete(session: AsyncSession, key: str) -> None:
    await session.execute(delete(Meta).where(Meta.key == key))
