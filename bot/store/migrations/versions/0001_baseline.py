"""Baseline: the schema as it was before Alembic.

Subscriptions, what was announced, mutes, the watcher's mark, the audit trail, confirmations
and followed submissions, as SQLite's PRAGMA user_version 6 had them. A SQLite file made before
Alembic is stamped at this revision, not created again.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.columns import Moment

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("domain", sa.Text, primary_key=True, server_default=""),
        sa.Column("object_type", sa.Text, primary_key=True, server_default=""),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("added_at", Moment, nullable=False),
        sa.Column("unreachable", sa.Text),
    )
    op.create_table(
        "announced",
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("announced_at", Moment, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("announced_by_time", "announced", ["announced_at"])
    op.create_table(
        "mute",
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("domain", sa.Text, primary_key=True),
        sa.Column("until", Moment, nullable=False),
        sa.Column("muted_by", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "mark",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", Moment, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("results", sa.Integer),
        sa.Column("request_ids", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    op.create_index("audit_by_time", "audit", ["at"])
    op.create_table(
        "confirmation",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("force", sa.Boolean, nullable=False),
        sa.Column("area", sa.Text),
        sa.Column("paths", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("used_by", sa.Text),
        sa.Column("used_at", Moment),
    )
    op.create_index("confirmation_by_time", "confirmation", ["created_at"])
    op.create_table(
        "tracked",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("force", sa.Boolean, nullable=False),
        sa.Column("area", sa.Text),
        sa.Column("paths", sa.Text, nullable=False),
        sa.Column("task_ids", sa.Text, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("started_at", Moment, nullable=False),
        sa.Column("cap_at", Moment, nullable=False),
        sa.Column("message_ts", sa.Text),
        sa.Column("response_url", sa.Text),
        sa.Column("response_uses", sa.Integer, nullable=False),
        sa.Column("shown", sa.Text, nullable=False),
        sa.Column("updated_at", Moment),
        sa.Column("finished_at", Moment),
    )
    op.create_index("tracked_unfinished", "tracked", ["finished_at"])


def downgrade() -> None:
    for table in ("tracked", "confirmation", "audit", "mark", "mute", "announced", "subscription"):
        op.drop_table(table)
