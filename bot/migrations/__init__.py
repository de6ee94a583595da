"""k6bot's schema migrations, with Alembic: the revisions in ``versions/``, run on a connection k6bot opened.

Everything here is synchronous and takes a SQLAlchemy ``Connection``; :class:`bot.store.Store` calls it through
``AsyncConnection.run_sync`` inside one transaction that it holds (and, on PostgreSQL, under an advisory lock).

A database made before Alembic records its version in ``k6bot_meta`` (``schema_version`` 1 or 2, equal to the
revisions 0001 and 0002): it is *adopted* — stamped with that revision and the old marker removed — and then
upgraded like any other, so no row is lost.

To add a revision, see ``alembic.ini`` next to this file, and set :data:`HEAD` to it.

Alembic (about 5 MiB of imported code, with Mako) is imported only to change the schema or to list the
revisions: reading where a database stands is one plain ``SELECT`` on the version table, compared with
:data:`HEAD` (tests/bot/test_migrations.py checks that it is the head of ``versions/``), so a ``k6bot serve``
whose database is current never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from tools.errors import K6BotError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent
HEAD = "0003"
"""The newest revision in ``versions/``: what a current database is at (no Alembic needed to know it)."""
VERSION_TABLE = "k6bot_alembic_version"
"""Where Alembic records the revision: not ``alembic_version``, which another application sharing the database
may use for its own."""
K6BOT_TABLES = frozenset(
    {"k6bot_meta", "confirmations", "audit_log", "subscriptions", "watched_runs", "outbox", "leases"}
)
LEGACY_TABLE = "k6bot_meta"
LEGACY_KEY = "schema_version"
LEGACY_REVISIONS = {1: "0001", 2: "0002"}
"""The pre-Alembic schema versions and the revision each one equals."""


class SchemaError(K6BotError):
    """The database's schema cannot be brought to what this k6bot needs (e.g. a newer k6bot migrated it)."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its Alembic revision (None when it has none yet) and the newest one."""

    current: str | None
    head: str
    legacy_version: int | None = None
    """``k6bot_meta.schema_version`` of a database made before Alembic, not adopted yet."""
    has_tables: bool = False
    """Whether k6bot's tables exist (other applications' tables in a shared database do not count)."""

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        """Whether this k6bot knows the revision (a newer k6bot may have gone further)."""
        if self.current is None:
            return self.legacy_version is None or self.legacy_version in LEGACY_REVISIONS
        return self.current == self.head or self.current in revisions()

    def short(self) -> str:
        """Where it stands, in a few words: "revision 0001", "pre-Alembic schema version 2", "no k6bot schema"."""
        if self.current is not None:
            return f"revision {self.current}"
        if self.legacy_version is not None:
            return f"pre-Alembic schema version {self.legacy_version}"
        return "no k6bot schema"

    def describe(self) -> str:
        if self.at_head:
            return f"revision {self.current} (head)"
        if self.current is None and self.legacy_version is not None:
            return (
                f"pre-Alembic schema version {self.legacy_version} "
                f"(head is {self.head}; upgrading adopts it, keeping every row)"
            )
        if self.current is None:
            what = "no k6bot schema yet" if not self.has_tables else "tables but no k6bot revision"
            return f"{what} (head is {self.head})"
        if not self.known:
            return f"revision {self.current}, unknown to this k6bot (head is {self.head}): a newer k6bot migrated it"
        return f"revision {self.current} (head is {self.head}; upgrading is needed)"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code (no ini file needed at run time)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision (:data:`HEAD`)."""
    return HEAD


def alembic_head() -> str | None:
    """The newest revision as Alembic finds it in ``versions/`` (what :data:`HEAD` must equal)."""
    return _script().get_current_head()


@cache
def revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script().walk_revisions())


def state(connection: Connection) -> SchemaState:
    """Read where the database stands, changing nothing."""
    tables = set(inspect(connection).get_table_names())
    current = _current_revision(connection) if VERSION_TABLE in tables else None
    legacy: int | None = None
    if current is None and LEGACY_TABLE in tables:
        raw = connection.execute(
            text(f"SELECT value FROM {LEGACY_TABLE} WHERE key = :key"),  # noqa: S608 - constant table name
            {"key": LEGACY_KEY},
        ).scalar_one_or_none()
        if raw is not None:
            try:
                legacy = int(raw)
            except ValueError:
                legacy = -1
    return SchemaState(current=current, head=head(), legacy_version=legacy, has_tables=bool(tables & K6BOT_TABLES))


def _current_revision(connection: Connection) -> str | None:
    """The revision in the version table, read as Alembic writes it (one row; none before the first upgrade)."""
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    if len(rows) > 1:
        raise SchemaError(
            f"k6bot's database records {len(rows)} schema revisions ({', '.join(sorted(rows))}) in {VERSION_TABLE}, "
            "not one: keep the right one, or point K6BOT_DATABASE_URL at another database."
        )
    return rows[0] if rows else None


def upgrade(connection: Connection) -> tuple[SchemaState, str]:
    """Bring the schema to the head revision (adopting a pre-Alembic database first).

    Returns the state found and the revision now in place. Raises :class:`SchemaError` for a database this
    k6bot cannot upgrade (a revision or legacy version it does not know).
    """
    found = state(connection)
    if not found.known:
        raise SchemaError(
            f"k6bot's database is at {found.describe()}. Run the newer k6bot, or point K6BOT_DATABASE_URL "
            "at another database."
        )
    if found.at_head:
        return found, found.head
    from alembic import command

    config = alembic_config(connection)
    if found.current is None and found.legacy_version is not None:
        command.stamp(config, LEGACY_REVISIONS[found.legacy_version])
        connection.execute(text(f"DELETE FROM {LEGACY_TABLE} WHERE key = :key"), {"key": LEGACY_KEY})  # noqa: S608
    elif found.current is None and found.has_tables:
        raise SchemaError(
            "k6bot's database has tables but no k6bot schema revision: point K6BOT_DATABASE_URL at an empty "
            "database or at one k6bot made."
        )
    command.upgrade(config, "head")
    return found, head()


__all__ = [
    "HEAD",
    "LEGACY_REVISIONS",
    "VERSION_TABLE",
    "SchemaError",
    "SchemaState",
    "alembic_config",
    "alembic_head",
    "head",
    "state",
    "upgrade",
]
