"""Deliveries from Slack already handled, shared by every replica.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.columns import Moment

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("handled_at", Moment, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("delivery_by_time", "delivery", ["handled_at"])


def downgrade() -> None:
    op.drop_index("delivery_by_time", table_name="delivery")
    op.drop_table("delivery")
