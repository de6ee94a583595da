"""The initial schema: confirmations, audit log, subscriptions, watched runs, outbox, leases, k6bot_meta.

Equal to what the pre-Alembic k6bot created as its "schema version 1"; such a database is stamped with this
revision instead of being created again (see ``bot.migrations.adopt_legacy``).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's auto-increment
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "k6bot_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "confirmations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("prepared", sa.JSON(), nullable=False),
        sa.Column("frontend", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("channel_id", sa.String(100), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
    )
    op.create_index("ix_confirmations_state", "confirmations", ["state"])
    op.create_table(
        "audit_log",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("frontend", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("channel_id", sa.String(100), nullable=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("safety", sa.String(20), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("confirmation_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(100), nullable=False),
        sa.Column("load_test_id", sa.BigInteger(), nullable=True),
        sa.Column("load_test_name", sa.String(300), nullable=True),
        sa.Column("failures_only", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("channel_id", "load_test_id", name="uq_subscription_channel_test"),
    )
    op.create_index("ix_subscriptions_channel_id", "subscriptions", ["channel_id"])
    op.create_table(
        "watched_runs",
        sa.Column("run_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("load_test_id", sa.BigInteger(), nullable=False),
        sa.Column("load_test_name", sa.String(300), nullable=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("channel_id", sa.String(100), nullable=True),
        sa.Column("thread_ts", sa.String(50), nullable=True),
        sa.Column("message_ts", sa.String(50), nullable=True),
        sa.Column("starter_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("result", sa.String(20), nullable=True),
        sa.Column("estimated_duration", sa.Float(), nullable=True),
        sa.Column("progress_updated_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_watched_runs_load_test_id", "watched_runs", ["load_test_id"])
    op.create_index("ix_watched_runs_notified", "watched_runs", ["notified"])
    op.create_table(
        "outbox",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("method", sa.String(50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("slack_ts", sa.String(50), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "outbox", "watched_runs", "subscriptions", "audit_log", "confirmations", "k6bot_meta"):
        op.drop_table(table)
