"""The store: subscriptions, what each channel was told (failures, stuck tasks), mutes, the
watcher's mark, the audit trail, confirmations of writes, the submissions whose progress is
followed, the lease that says which replica does the background work, and the task history the
archiver keeps.

SQLite (one host) or PostgreSQL (any number of replicas) through SQLAlchemy Core; the queries
live in one module per table, and `Store.open` migrates the schema with Alembic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.core.audit import AuditEntry
from bot.core.progress import Tracked
from bot.core.stuck import StuckNotice
from bot.core.submission import Claim, Confirmation
from bot.core.tasks import ObjectType, Status, Task
from bot.core.watch import Subscription
from bot.store import (
    announced,
    audit,
    confirmations,
    deliveries,
    history,
    lease,
    migrate,
    mutes,
    stuck,
    subscriptions,
    tracked,
)
from bot.store.engine import Connector
from bot.store.history import Archived
from bot.store.lease import Fence
from bot.store.mutes import ActiveMute

__all__ = ["ActiveMute", "Archived", "Store"]


class Store:
    """The bot's durable state. Every method is a coroutine; each write is one transaction."""

    def __init__(self, connector: Connector) -> None:
        """Use `Store.open`, which also migrates."""
        self._db = connector

    @classmethod
    async def open(cls, database_url: str) -> Store:
        """Connect to `database_url` and migrate it to the newest schema (a SQLite file is
        created on first use)."""
        connector = Connector(database_url)
        try:
            async with connector.writing() as connection:
                await connection.run_sync(migrate.upgrade)
        except BaseException:
            await connector.dispose()
            raise
        return cls(connector)

    async def close(self) -> None:
        """Close every connection."""
        await self._db.dispose()

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql", for health reports."""
        return self._db.dialect

    async def ping(self) -> None:
        """A round trip to the database; raises when it does not answer."""
        async with self._db.reading() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at."""
        async with self._db.reading() as connection:
            return await connection.run_sync(migrate.revision)

    # -- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, subscription: Subscription) -> bool:
        """Store a subscription; False when the channel had it already (it is reachable again)."""
        async with self._db.writing() as connection:
            return await subscriptions.subscribe(connection, subscription)

    async def unsubscribe(
        self,
        channel_id: str,
        domain: str | None,
        object_type: ObjectType | None,
        *,
        everything: bool,
    ) -> int:
        """Remove the channel's matching subscription (or all of them); how many went."""
        async with self._db.writing() as connection:
            return await subscriptions.unsubscribe(
                connection, channel_id, domain, object_type, everything=everything
            )

    async def subscriptions(self, channel_id: str) -> list[Subscription]:
        """One channel's subscriptions, oldest first. A blank channel is a caller's bug and
        raises: it never reads as "every channel" (that is `all_subscriptions`)."""
        if not channel_id.strip():
            raise ValueError("subscriptions of a blank channel; all_subscriptions() is every one")
        async with self._db.reading() as connection:
            return await subscriptions.subscriptions(connection, channel_id)

    async def all_subscriptions(self) -> list[Subscription]:
        """Every channel's subscriptions, oldest first: for the watcher, never for a reply."""
        async with self._db.reading() as connection:
            return await subscriptions.subscriptions(connection, None)

    async def mark_unreachable(self, channel_id: str, reason: str) -> None:
        """Stop posting to a channel Slack refuses; shown in /cdn subscriptions."""
        async with self._db.writing() as connection:
            await subscriptions.mark_unreachable(connection, channel_id, reason)

    # -- what was said ----------------------------------------------------------------------

    async def announced(self, channel_ids: Iterable[str]) -> dict[str, set[str]]:
        """The task IDs each channel has been told about (or muted)."""
        wanted = list(channel_ids)
        async with self._db.reading() as connection:
            return await announced.announced(connection, wanted)

    async def record_announced(
        self, channel_id: str, task_ids: Iterable[str], now: datetime, *, fence: Fence | None = None
    ) -> bool:
        """Remember that `channel_id` has heard of these tasks (after Slack accepted the post).
        With a `fence`, only while it is still the running lease: False, and nothing written,
        once it is not."""
        rows = list(task_ids)
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await announced.record(connection, channel_id, rows, now)
        return True

    async def forget_announced_before(self, moment: datetime) -> None:
        """Drop records no window can reach again (older than the API's history)."""
        async with self._db.writing() as connection:
            await announced.forget_before(connection, moment)

    # -- stuck notices ----------------------------------------------------------------------

    async def stuck_notices(self, task_ids: Iterable[str] = ()) -> list[StuckNotice]:
        """Every stuck notice whose end is still to be told, and every notice of `task_ids`
        (told or not), oldest first."""
        wanted = list(task_ids)
        async with self._db.reading() as connection:
            return await stuck.notices(connection, wanted)

    async def record_stuck(
        self,
        channel_id: str,
        task_ids: Iterable[str],
        message_ts: str | None,
        now: datetime,
        *,
        fence: Fence | None = None,
    ) -> bool:
        """Remember that `channel_id` was told these tasks are stuck, in the message
        `message_ts` (None: their domain was muted there). With a `fence`, only while it is
        still the running lease: False, and nothing written, once it is not."""
        rows = list(task_ids)
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await stuck.record(connection, channel_id, rows, message_ts, now)
        return True

    async def close_stuck(
        self,
        channel_id: str,
        task_ids: Iterable[str],
        now: datetime,
        *,
        failed: Iterable[str] = (),
        fence: Fence | None = None,
    ) -> bool:
        """Remember that the end of these tasks was told in `channel_id`, and count the `failed`
        among them as announced there (the thread said it). Fenced like `record_stuck`."""
        ended, failures = list(task_ids), list(failed)
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await stuck.close(connection, channel_id, ended)
            await announced.record(connection, channel_id, failures, now)
        return True

    async def forget_stuck_before(self, moment: datetime) -> None:
        """Drop stuck notices given before `moment` (their tasks are gone from the history)."""
        async with self._db.writing() as connection:
            await stuck.forget_before(connection, moment)

    # -- mutes ------------------------------------------------------------------------------

    async def mute(self, channel_id: str, domain: str, until: datetime, *, by: str = "") -> None:
        """Silence a domain in a channel until `until`; `by` is who asked."""
        async with self._db.writing() as connection:
            await mutes.mute(connection, channel_id, domain, until, by)

    async def unmute(self, channel_id: str, domain: str | None) -> list[str]:
        """Lift the channel's mute of `domain` (None: every mute); the domains it lifted."""
        if not channel_id.strip():
            raise ValueError("unmute in a blank channel")
        async with self._db.writing() as connection:
            return await mutes.unmute(connection, channel_id, domain)

    async def mutes(self, channel_id: str, now: datetime) -> list[ActiveMute]:
        """One channel's mutes still in force at `now`, the soonest to end first."""
        if not channel_id.strip():
            raise ValueError("mutes of a blank channel")
        async with self._db.reading() as connection:
            return await mutes.mutes(connection, channel_id, now)

    async def muted(self, now: datetime) -> dict[str, set[str]]:
        """Each channel's domains muted at `now`."""
        async with self._db.writing() as connection:
            return await mutes.muted(connection, now)

    # -- deliveries from Slack --------------------------------------------------------------

    async def claim_delivery(self, key: str, *, at: datetime, forget_before: datetime) -> bool:
        """Take `key` (an Events API event_id) for this replica: True the first time any
        replica asks, False for a repeat. Keys older than `forget_before` are forgotten."""
        async with self._db.writing() as connection:
            return await deliveries.claim(connection, key, at, forget_before)

    # -- the audit trail --------------------------------------------------------------------

    async def record_audit(self, entry: AuditEntry, *, forget_before: datetime) -> None:
        """Append an entry and drop those older than `forget_before`. By age, not by count:
        no number of cheap commands can push an earlier action out of the trail."""
        async with self._db.writing() as connection:
            await audit.record(connection, entry, forget_before)

    async def recent_audit(self, limit: int) -> list[AuditEntry]:
        """The newest entries, newest first."""
        async with self._db.reading() as connection:
            return await audit.recent(connection, limit)

    # -- confirmations of writes ------------------------------------------------------------

    async def save_confirmation(self, confirmation: Confirmation) -> None:
        """Keep a confirmation until it is clicked (or forgotten)."""
        async with self._db.writing() as connection:
            await confirmations.save(connection, confirmation)

    async def claim_confirmation(self, confirmation_id: str, *, user: str, at: datetime) -> Claim:
        """Spend a confirmation for `user`: granted to exactly one claim, however many clicks
        arrive at once, in this process or another on the same database."""
        async with self._db.writing() as connection:
            return await confirmations.claim(connection, confirmation_id, user, at)

    async def release_confirmation(self, confirmation_id: str, *, user: str) -> None:
        """Make a confirmation `user` spent clickable again: nothing was submitted with it."""
        async with self._db.writing() as connection:
            await confirmations.release(connection, confirmation_id, user)

    async def forget_confirmations_before(self, moment: datetime) -> None:
        """Drop confirmations made before `moment` (long past clicking)."""
        async with self._db.writing() as connection:
            await confirmations.forget_before(connection, moment)

    # -- submissions being followed ---------------------------------------------------------

    async def save_tracked(self, followed: Tracked, *, fence: Fence | None = None) -> bool:
        """Keep (or overwrite) a followed submission and what its message shows. With a
        `fence`, only while it is still the running lease: False, and nothing written, once
        it is not (a paused leader cannot write back an older state)."""
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await tracked.save(connection, followed)
        return True

    async def tracked(self, tracked_id: str) -> Tracked | None:
        """One followed submission, finished or not."""
        async with self._db.reading() as connection:
            return await tracked.one(connection, tracked_id)

    async def unfinished_tracked(self) -> list[Tracked]:
        """The submissions still being followed, oldest first (to resume after a restart)."""
        async with self._db.reading() as connection:
            return await tracked.unfinished(connection)

    async def forget_tracked_before(self, moment: datetime) -> None:
        """Drop submissions started before `moment` (their tasks are gone upstream)."""
        async with self._db.writing() as connection:
            await tracked.forget_before(connection, moment)

    # -- the watcher's mark -----------------------------------------------------------------

    async def high_water(self) -> datetime | None:
        """Where the watcher got to, if it ever ran."""
        async with self._db.reading() as connection:
            return await announced.high_water(connection)

    async def set_high_water(self, moment: datetime, *, fence: Fence | None = None) -> bool:
        """Move the watcher's mark. With a `fence`, only while it is still the running lease:
        False, and the mark left where it was, once it is not."""
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await announced.set_high_water(connection, moment)
        return True

    # -- who does the background work -------------------------------------------------------

    async def acquire_lease(self, name: str, holder: str, ttl: float) -> Fence | None:
        """Take lease `name` for `ttl` seconds of the database's clock if it is free or expired,
        or renew it if `holder` has it (the epoch grows only when the holder changes). None
        while another holder's lease runs; of callers racing from any process, one wins."""
        async with self._db.writing() as connection:
            return await lease.acquire(connection, name, holder, ttl)

    async def release_lease(self, fence: Fence) -> None:
        """End the lease now if `fence` still holds it, so a standby takes over at once."""
        async with self._db.writing() as connection:
            await lease.release(connection, fence)

    async def lease_holder(self, name: str) -> tuple[str, int, bool] | None:
        """Who has (or last had) lease `name`: (holder, epoch, expired); None if nobody ever."""
        async with self._db.reading() as connection:
            return await lease.holder(connection, name)

    # -- the task history -------------------------------------------------------------------

    async def archive(
        self, tasks: Sequence[Task], seen_at: datetime, *, fence: Fence | None = None
    ) -> bool:
        """Keep `tasks` as seen at `seen_at`, one statement for the lot: a task already kept
        keeps its first sighting and gets its new status, progress and description (and, the
        first time it is Complete or Failed, its end). With a `fence`, only while it is still
        the running lease: False, and nothing written, once it is not."""
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await history.archive(connection, tasks, seen_at)
        return True

    async def archived(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        object_type: ObjectType | str | None = None,
        domain: str | None = None,
        status: Status | None = None,
        task_ids: Sequence[str] = (),
        object_path: str | None = None,
        offset: int = 0,
        limit: int = 20,
        end_inclusive: bool = True,
    ) -> tuple[int, list[Archived]]:
        """How many kept tasks match, and `limit` of them from `offset`, in the API's order:
        newest created first, then the higher task ID. `start` and `end` bound the creation
        time, both inclusive (as the API's StartTime and EndTime) unless `end_inclusive` is
        False; `domain` is an exact host; `task_ids`, when given, are the only tasks that may
        match."""
        where = history.filters(
            start=start,
            end=end,
            object_type=object_type,
            domain=domain,
            status=status,
            object_path=object_path,
            end_inclusive=end_inclusive,
        )
        async with self._db.reading() as connection:
            if task_ids:
                return await history.by_ids(connection, task_ids, where, offset=offset, limit=limit)
            return await history.archived(connection, where, offset=offset, limit=limit)

    async def archived_between(
        self,
        start: datetime,
        end: datetime,
        *,
        domain: str | None = None,
        object_type: ObjectType | str | None = None,
    ) -> list[Archived]:
        """Every kept task created in [start, end) (so periods side by side share none),
        oldest first."""
        where = history.filters(
            start=start, end=end, domain=domain, object_type=object_type, end_inclusive=False
        )
        async with self._db.reading() as connection:
            return await history.oldest_first(connection, where)

    async def unfinished_archived(self) -> list[Task]:
        """The kept tasks last seen Pending or Refreshing, oldest first."""
        async with self._db.reading() as connection:
            return await history.unfinished(connection)

    async def prune_archived(self, before: datetime) -> int:
        """Drop kept tasks created before `before`; how many went."""
        async with self._db.writing() as connection:
            return await history.prune(connection, before)

    async def archive_mark(self, object_type: ObjectType | str) -> datetime | None:
        """Where the archiver got to for one task type: every task of that type created
        before it is kept, save those the API had dropped before the archiver first read (or
        read again after more than three days away). None until it first got anywhere."""
        async with self._db.reading() as connection:
            return await history.archive_mark(connection, object_type)

    async def set_archive_mark(
        self, object_type: ObjectType | str, moment: datetime, *, fence: Fence | None = None
    ) -> bool:
        """Move the archiver's mark for one task type. With a `fence`, only while it is still
        the running lease: False, and the mark left where it was, once it is not."""
        async with self._db.writing() as connection:
            if fence is not None and not await lease.holds(connection, fence):
                return False
            await history.set_archive_mark(connection, object_type, moment)
        return True
