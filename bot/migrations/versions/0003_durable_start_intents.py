"""Durable intents on confirmations: where to answer, whether the API call was sent, the follow-up state.

A confirmed start is recorded before k6bot calls k6 Cloud (``state = 'confirmed'``), with where to answer
(``origin``: channel, thread, preview message, response_url) and, just before the call, ``sent_at``. After
the call the row is finished (``result``) and ``followup`` is ``'pending'`` until the announcement, the watch
and the preview's final state are delivered (``'delivered'``). A restarted k6bot reconciles what a crash left.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("confirmations") as batch:
        batch.add_column(sa.Column("origin", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("followup", sa.String(length=20), nullable=True))
    op.create_index("ix_confirmations_followup", "confirmations", ["followup"])


def downgrade() -> None:
    op.drop_index("ix_confirmations_followup", table_name="confirmations")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("followup")
        batch.drop_column("sent_at")
        batch.drop_column("origin")
