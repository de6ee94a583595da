"""Alembic migrations: new databases, databases made before Alembic, replicas starting at once, bad databases.

Every test that can runs on SQLite and on PostgreSQL (``K6BOT_TEST_POSTGRES_URL``; see tests/notify/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from bot import migrations
from bot.store import AuditEntry, Base, DatabaseUnavailable, Meta, Store, Subscription, open_store
from tests.bot import legacy
from tests.notify.conftest import (
    DATABASES,
    POSTGRES_URL,
    SKIP_POSTGRES,
    create_postgres_database,
    drop_postgres_database,
)

HEAD = migrations.head()


@pytest.fixture
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database (``parametrize(..., indirect=True)``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}"
        return
    if POSTGRES_URL is None:
        pytest.skip(SKIP_POSTGRES)
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


async def load_legacy(db_url: str, version: int, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        legacy.load_sqlite(tmp_path / "k6bot.db", version)
    else:
        await legacy.load_postgres(db_url, version)


async def schema_differences(store: Store) -> list[object]:
    """What Alembic's autogenerate sees between the models and the migrated database (nothing, we hope)."""

    def compare(conn) -> list[object]:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": migrations.VERSION_TABLE}
        )
        return list(compare_metadata(context, Base.metadata))

    async with store.engine.connect() as conn:
        return await conn.run_sync(compare)


async def revision_rows(store: Store) -> list[str]:
    async with store.session() as session:
        return list((await session.execute(text(f"SELECT version_num FROM {migrations.VERSION_TABLE}"))).scalars())


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_a_new_database_is_created_at_head_and_matches_the_models(db_url: str) -> None:
    store = await open_store(db_url)
    try:
        state = await store.schema()
        assert state.at_head and state.current == HEAD and state.describe() == f"revision {HEAD} (head)"
        assert await schema_differences(store) == []
        assert await store.migrate() == HEAD  # again: nothing to do
        assert await revision_rows(store) == [HEAD]
    finally:
        await store.close()


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_a_database_made_before_alembic_is_adopted_keeping_every_row(
    db_url: str, version: int, tmp_path: Path
) -> None:
    await load_legacy(db_url, version, tmp_path)
    before = Store(db_url)
    state = await before.schema()
    await before.close()
    assert state.current is None and state.legacy_version == version and not state.at_head
    assert "pre-Alembic schema version" in state.describe()

    store = await open_store(db_url)
    try:
        assert (await store.schema()).at_head
        async with store.session() as session:
            for table, count in legacy.ROWS.items():
                found = (await session.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
                assert found == count, table
            subscriptions = (await session.execute(select(Subscription).order_by(Subscription.id))).scalars().all()
            meta = {key: value for key, value in (await session.execute(select(Meta.key, Meta.value))).all()}
        # version 1 could hold duplicate every-run subscriptions: revision 0002 keeps the newest of each channel
        assert [(s.channel_id, s.load_test_id, s.failures_only) for s in subscriptions] == [
            ("C0LOADTEST", None, True),
            ("C0OTHER", None, False),
            ("C0LOADTEST", 501, False),
        ]
        assert meta == {"watcher.cursor": "2025-01-15T10:00:00+00:00"}  # the old version marker is gone
        assert await schema_differences(store) == []
        async with store.session() as session:  # new rows get fresh ids (PostgreSQL's sequences carry on)
            session.add(AuditEntry(frontend="mcp", actor_id="x", operation="op", safety="read", decision="allowed"))
        async with store.session() as session:
            assert (await session.execute(select(func.max(AuditEntry.id)))).scalar_one() == 2
        assert await revision_rows(store) == [HEAD]
    finally:
        await store.close()


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_replicas_starting_at_once_migrate_once(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(4)]  # each its own engine and connections
    try:
        assert await asyncio.gather(*(s.migrate() for s in stores)) == [HEAD] * 4
        assert await revision_rows(stores[0]) == [HEAD]
        assert await schema_differences(stores[0]) == []
    finally:
        for s in stores:
            await s.close()


@pytest.mark.parametrize("db_url", DATABASES, indirect=True)
async def test_two_processes_upgrading_an_old_database_at_once(db_url: str, tmp_path: Path) -> None:
    """Two ``k6bot db upgrade`` processes on a version-1 database: one adopts and upgrades it, the other waits."""
    await load_legacy(db_url, 1, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env["K6BOT_DATABASE_URL"] = db_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = [out.decode() for out, _err in outputs]
    assert all(f"revision {HEAD} (head)" in s for s in said), said
    store = Store(db_url)
    try:
        assert await revision_rows(store) == [HEAD]
        async with store.session() as session:
            assert (await session.execute(select(func.count()).select_from(Subscription))).scalar_one() == 3
    finally:
        await store.close()


async def test_a_database_from_a_newer_k6bot_is_refused_and_left_alone(db_url: str) -> None:
    await (await open_store(db_url)).close()
    store = Store(db_url)
    async with store.session() as session:
        await session.execute(text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0999'"))
    with pytest.raises(DatabaseUnavailable) as caught:
        await store.migrate()
    assert "0999, unknown to this k6bot" in str(caught.value) and "\n" not in str(caught.value)
    assert await revision_rows(store) == ["0999"]
    await store.close()


async def test_a_new_revision_upgrades_an_existing_database(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adding a file to versions/ (and setting ``HEAD`` to it) is all it takes: the next start upgrades, keeping the
    rows."""
    store = await open_store(db_url)
    async with store.session() as session:
        session.add(Subscription(channel_id="C0KEEP"))
    await store.close()

    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0999_test_marker.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = '0999'\ndown_revision = '{HEAD}'\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    op.add_column('subscriptions', sa.Column('test_marker', sa.Text(), nullable=True))\n"
    )
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrations, "HEAD", "0999")
    migrations._script.cache_clear()
    migrations.revisions.cache_clear()
    try:
        upgraded = await open_store(db_url)
        async with upgraded.session() as session:
            columns = {row[1] for row in await session.execute(text("PRAGMA table_info(subscriptions)"))}
            channels = (await session.execute(select(Subscription.channel_id))).scalars().all()
        await upgraded.close()
    finally:
        migrations._script.cache_clear()
        migrations.revisions.cache_clear()
    assert "test_marker" in columns and channels == ["C0KEEP"]


def test_head_is_the_newest_revision_alembic_finds() -> None:
    """``HEAD`` lets a start with a current database skip Alembic: a new file in versions/ must move it too."""
    migrations._script.cache_clear()
    assert migrations.alembic_head() == migrations.HEAD
    assert migrations.HEAD in migrations.revisions()


async def test_two_recorded_revisions_are_refused_and_left_alone(db_url: str) -> None:
    await (await open_store(db_url)).close()
    store = Store(db_url)
    async with store.session() as session:
        await session.execute(text(f"INSERT INTO {migrations.VERSION_TABLE} (version_num) VALUES ('0002')"))
    with pytest.raises(
        DatabaseUnavailable, match=r"records 2 schema revisions \(0002, 0003\) in k6bot_alembic_version, not one"
    ):
        await store.migrate()
    assert sorted(await revision_rows(store)) == ["0002", HEAD]
    await store.close()


async def test_an_unreachable_postgresql_is_one_line_without_the_password(unused_tcp_port: int) -> None:
    url = f"postgresql+asyncpg://k6bot:pa55word-value@127.0.0.1:{unused_tcp_port}/k6bot"
    with pytest.raises(DatabaseUnavailable) as caught:
        await open_store(url)
    message = str(caught.value)
    assert "connection refused" in message.lower() and "K6BOT_DATABASE_URL" in message
    assert "\n" not in message and "pa55word-value" not in message and f":{unused_tcp_port}/k6bot" in message


@pytest.mark.parametrize("url", ["mysql://k6bot@db/k6bot", "postgresql+asyncpg://k6bot@db:notaport/k6bot"])
def test_a_url_k6bot_cannot_use_is_named(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="K6BOT_DATABASE_URL is not a database k6bot can use"):
        Store(url)


async def test_a_sqlite_file_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"the directory .*missing does not exist\. Check K6BOT_DATABASE_URL"):
        await open_store(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'k6bot.db'}")


def test_the_migrations_ship_in_the_wheel() -> None:
    """`pip install .` (not editable) must carry env.py, every revision and the non-Python files."""
    import tomllib

    root = migrations.MIGRATIONS_DIR.parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert any(pattern.startswith("bot") for pattern in config["packages"]["find"]["include"])
    assert (migrations.MIGRATIONS_DIR / "__init__.py").exists()
    assert (migrations.MIGRATIONS_DIR / "versions" / "__init__.py").exists()  # a package, so it is found
    data = set(config["package-data"]["bot.migrations"])
    others = {p.name for p in migrations.MIGRATIONS_DIR.iterdir() if p.is_file() and p.suffix != ".py"}
    assert others <= data
