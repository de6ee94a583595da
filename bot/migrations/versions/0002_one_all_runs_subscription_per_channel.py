"""At most one every-run subscription per channel.

``uq_subscription_channel_test`` cannot cover them: their ``load_test_id`` is NULL, and NULLs are never equal.
Two ``/k6 subscribe`` at the same moment could each add one; keep the newest, then let a partial unique index
(SQLite and PostgreSQL alike) refuse another. The pre-Alembic k6bot's "schema version 2".

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ALL_RUNS = sa.text("load_test_id IS NULL")


def upgrade() -> None:
    op.execute(
        "DELETE FROM subscriptions WHERE load_test_id IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM subscriptions WHERE load_test_id IS NULL GROUP BY channel_id)"
    )
    op.create_index(
        "uq_subscription_channel_all_runs",
        "subscriptions",
        ["channel_id"],
        unique=True,
        sqlite_where=ALL_RUNS,
        postgresql_where=ALL_RUNS,
    )


def downgrade() -> None:
    op.drop_index("uq_subscription_channel_all_runs", table_name="subscriptions")
