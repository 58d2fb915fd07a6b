"""The tables the store's queries are written against. The migrations under
bot/store/migrations create them; a test checks the two agree on both engines."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    false,
    true,
)

from bot.store.columns import Moment

metadata = MetaData()

# '' in `domain` or `object_type` means every domain or every type (a key column cannot be NULL).
subscription = Table(
    "subscription",
    metadata,
    Column("channel_id", Text, primary_key=True),
    Column("domain", Text, primary_key=True, server_default=""),
    Column("object_type", Text, primary_key=True, server_default=""),
    Column("added_by", Text, nullable=False),
    Column("added_at", Moment, nullable=False),
    Column("unreachable", Text),
    Column("stuck", Boolean, nullable=False, server_default=true()),  # hears of stuck tasks
)

announced = Table(
    "announced",
    metadata,
    Column("channel_id", Text, primary_key=True),
    Column("task_id", Text, primary_key=True),
    Column("announced_at", Moment, nullable=False),
    Index("announced_by_time", "announced_at"),
    sqlite_with_rowid=False,
)

# A channel told that a task is stuck: under which message (NULL: the domain was muted there,
# nothing posted), and whether its end was told in that message's thread.
stuck_notice = Table(
    "stuck_notice",
    metadata,
    Column("channel_id", Text, primary_key=True),
    Column("task_id", Text, primary_key=True),
    Column("message_ts", Text),
    Column("noticed_at", Moment, nullable=False),
    Column("ended", Boolean, nullable=False, server_default=false()),
    Index("stuck_notice_open", "ended"),
    Index("stuck_notice_by_time", "noticed_at"),
    sqlite_with_rowid=False,
)

# A delivery from Slack already handled by some replica (an Events API event_id), so a retry
# that reaches another replica is not handled twice; kept an hour, as long as Slack retries.
delivery = Table(
    "delivery",
    metadata,
    Column("key", Text, primary_key=True),
    Column("handled_at", Moment, nullable=False),
    Index("delivery_by_time", "handled_at"),
    sqlite_with_rowid=False,
)

mute = Table(
    "mute",
    metadata,
    Column("channel_id", Text, primary_key=True),
    Column("domain", Text, primary_key=True),
    Column("until", Moment, nullable=False),
    Column("muted_by", Text, nullable=False, server_default=""),  # '' for the oldest mutes
)

# Named values; the watcher's high-water mark is the one there is.
mark = Table(
    "mark",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

audit = Table(
    "audit",
    metadata,
    # On SQLite only INTEGER makes the rowid alias that numbers rows by itself.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", Moment, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("results", Integer),
    Column("request_ids", Text, nullable=False),  # comma-separated
    Column("outcome", Text, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Index("audit_by_time", "at"),
)

# A write waits here for its one click; `used_*` says who spent it.
confirmation = Table(
    "confirmation",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("force", Boolean, nullable=False),
    Column("area", Text),
    Column("paths", Text, nullable=False),  # one per line
    Column("created_at", Moment, nullable=False),
    Column("used_by", Text),
    Column("used_at", Moment),
    Index("confirmation_by_time", "created_at"),
)

# A submission whose progress message is kept up to date; a restart picks it up again.
tracked = Table(
    "tracked",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("force", Boolean, nullable=False),
    Column("area", Text),
    Column("paths", Text, nullable=False),  # the paths that went in, one per line
    Column("task_ids", Text, nullable=False),  # comma-separated
    Column("refused", Integer, nullable=False),
    Column("started_at", Moment, nullable=False),
    Column("cap_at", Moment, nullable=False),
    Column("message_ts", Text),  # NULL: progress goes through response_url
    Column("response_url", Text),
    Column("response_uses", Integer, nullable=False),
    Column("shown", Text, nullable=False),
    Column("updated_at", Moment),
    Column("finished_at", Moment),
    Index("tracked_unfinished", "finished_at"),
)

# Who does the background work: one row per lease, on the database's clock. `epoch` grows with
# every change of holder and fences the holder's writes.
lease = Table(
    "lease",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),  # Unix milliseconds, the database's clock
)

# Every task the archiver has seen, kept for HISTORY_DAYS after the API forgets it. `domain` is
# the host of `object_path`; `id_number` is the task ID as a number (0 if it is not one), so
# rows sort as the API orders them: newest created first, then the higher ID.
task_history = Table(
    "task_history",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("id_number", BigInteger, nullable=False),
    Column("object_path", Text, nullable=False),
    Column("object_type", Text, nullable=False),
    Column("domain", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("progress", Float, nullable=False),
    Column("description", Text),
    Column("created", Moment, nullable=False),
    Column("first_seen", Moment, nullable=False),
    Column("last_seen", Moment, nullable=False),
    Column("ended_at", Moment),  # when it was first seen Complete or Failed
    Index("task_history_by_created", "created", "id_number"),
    Index("task_history_by_domain", "domain", "created", "id_number"),
    Index("task_history_by_status", "status", "created", "id_number"),
    Index("task_history_by_path", "object_path", "created", "id_number"),
)
