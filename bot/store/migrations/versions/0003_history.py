"""Task history: every task the archiver has seen, kept after the API forgets it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.columns import Moment

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_history",
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("id_number", sa.BigInteger, nullable=False),
        sa.Column("object_path", sa.Text, nullable=False),
        sa.Column("object_type", sa.Text, nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created", Moment, nullable=False),
        sa.Column("first_seen", Moment, nullable=False),
        sa.Column("last_seen", Moment, nullable=False),
        sa.Column("ended_at", Moment),
    )
    op.create_index("task_history_by_created", "task_history", ["created", "id_number"])
    op.create_index("task_history_by_domain", "task_history", ["domain", "created", "id_number"])
    op.create_index("task_history_by_status", "task_history", ["status", "created", "id_number"])
    op.create_index("task_history_by_path", "task_history", ["object_path", "created", "id_number"])


def downgrade() -> None:
    op.drop_table("task_history")
