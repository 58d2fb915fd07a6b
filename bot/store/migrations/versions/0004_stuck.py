"""Stuck-task alerts: whether a subscription hears of them, and which channel was told which
task is stuck, under which message, and whether its end was told.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.columns import Moment

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Subscriptions made before stuck alerts existed hear of them, as new ones do by default.
    op.add_column(
        "subscription",
        sa.Column("stuck", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "stuck_notice",
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("message_ts", sa.Text),
        sa.Column("noticed_at", Moment, nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False, server_default=sa.false()),
        sqlite_with_rowid=False,
    )
    op.create_index("stuck_notice_open", "stuck_notice", ["ended"])
    op.create_index("stuck_notice_by_time", "stuck_notice", ["noticed_at"])


def downgrade() -> None:
    op.drop_table("stuck_notice")
    with op.batch_alter_table("subscription") as table:
        table.drop_column("stuck")
