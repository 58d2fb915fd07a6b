"""The archiver: keeps every task of the account in the store's history, beyond the API's
three days, for HISTORY_DAYS.

Each cycle reads, per task type, the tasks created since that type's mark (the first cycle:
the API's whole three days), 100 a call as a background caller; then re-reads the tasks still
Pending or Refreshing, ten a DescribeRefreshTaskById call, until they are Complete or Failed;
and at most once an hour drops the tasks older than HISTORY_DAYS. A cycle costs about
new tasks ÷ 100 + unfinished ÷ 10 calls, and one call per type when nothing is new.

How a type's window [mark, end] is read, so that a stop at any moment leaves no gap: `end` is
fixed for the cycle (a few seconds before now), so no task enters the window while it is read
and its pages, counted from the newest, stay put. Page 1 (the newest) comes first, for the
total; then the last page, the one before it, and so on back to page 2, oldest first. Every
page is kept as soon as it is read, and then the mark moves to the newest creation time on it:
every task created before that is on this page or an older one, all kept. A restart reads
again from the mark: page 1 of the interrupted cycle, and the tasks of the mark's own second,
twice; nothing is skipped. Once every page is kept the mark moves to `end`.

With several replicas, only the one holding the background lease (bot.leader) runs cycles;
every write carries the lease's epoch, and a write refused ends the cycle at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cdn.cache import CachedReads
from bot.cdn.limiter import Priority
from bot.core.tasks import (
    IDS_PER_LOOKUP,
    MAX_PAGE_SIZE,
    ObjectType,
    Task,
    TaskListRequest,
    TaskPage,
)
from bot.core.timeframe import HISTORY, oldest_start
from bot.errors import BotError
from bot.leader import Leadership
from bot.store.database import Store
from bot.store.lease import Fence

log = logging.getLogger(__name__)

# Seconds between cycles: a new task is in the history within a minute or so of being made,
# and a task's end within a minute of it ending, for about three calls a minute when the
# account is quiet (a fiftieth of one second's worth of the listing's rate a minute).
ARCHIVE_INTERVAL = 60.0
# The types read when none are given: the ones the seed's API has.
ARCHIVED_TYPES = (ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD)
# How far before now a cycle's window ends: a task made in the last seconds (on a clock a
# little off ours) is read by the next cycle instead of entering a window being paged.
SETTLE = timedelta(seconds=5)
# Pruning is one DELETE over an index; once an hour is plenty for a limit counted in days.
PRUNE_EVERY = timedelta(hours=1)


@dataclass
class ArchiveReport:
    """What one cycle did, for logs, tests and benchmarks."""

    end: datetime  # the cycle's window ended here
    listed: int = 0  # tasks read from DescribeRefreshTasks pages
    list_calls: int = 0
    looked_up: int = 0  # unfinished tasks read again by ID
    lookup_calls: int = 0
    pruned: int = 0
    # What stopped a type's scan (or "unfinished": the re-reading) this cycle; the next
    # cycle starts again from where it got to.
    failed: dict[str, str] = field(default_factory=dict)
    # The lease went to another replica during the cycle: nothing more was written.
    deposed: bool = False
    # The bot is stopping: the cycle ended between two calls (the next one resumes).
    stopped: bool = False

    @property
    def calls(self) -> int:
        """Upstream calls the cycle made (retries of one call not counted)."""
        return self.list_calls + self.lookup_calls


class _Deposed(Exception):
    """The lease is no longer this replica's: the cycle stops where it is."""


class _Stopped(Exception):
    """The bot is stopping: the cycle stops where it is, which is always safe."""


class Archiver:
    """Runs cycles every `interval` while this replica leads; `cycle()` alone is what tests
    drive."""

    def __init__(
        self,
        *,
        store: Store,
        reads: CachedReads,
        clock: Callable[[], datetime],
        keep_days: int,
        types: Sequence[ObjectType] = ARCHIVED_TYPES,
        interval: float = ARCHIVE_INTERVAL,
        leadership: Leadership | None = None,
        standby_tick: float = 1.0,
    ) -> None:
        self._store = store
        self._reads = reads
        self._clock = clock
        self._kept_for = timedelta(days=keep_days)
        self._types = tuple(dict.fromkeys(types))
        self._interval = interval
        self._leadership = leadership
        self._standby_tick = standby_tick
        self._pruned_at: datetime | None = None
        self._stop: asyncio.Event | None = None

    def _fence(self) -> Fence | None:
        return self._leadership.fence if self._leadership is not None else None

    def _check_lead(self, fence: Fence | None) -> None:
        """Before each call: the lease this cycle started under must still be this one's, and
        the bot not stopping (every page is kept as it is read, so stopping anywhere is safe)."""
        if self._leadership is not None and (fence is None or self._fence() != fence):
            raise _Deposed
        if self._stop is not None and self._stop.is_set():
            raise _Stopped

    async def cycle(self) -> ArchiveReport:
        """Read each type's new tasks, re-read the unfinished ones, prune now and then."""
        fence = self._fence()
        now = self._clock()
        report = ArchiveReport(end=now.replace(microsecond=0) - SETTLE)
        seen: set[str] = set()  # read this cycle: no need to look them up again
        try:
            self._check_lead(fence)
            for kind in self._types:
                try:
                    await self._catch_up(kind, report, seen, fence)
                except BotError as error:
                    report.failed[str(kind)] = repr(error)
            try:
                await self._follow_unfinished(report, seen, fence)
            except BotError as error:
                report.failed["unfinished"] = repr(error)
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                report.pruned = await self._store.prune_archived(now - self._kept_for)
                self._pruned_at = now
        except _Deposed:
            report.deposed = True
        except _Stopped:
            report.stopped = True
        return report

    async def _catch_up(
        self, kind: ObjectType, report: ArchiveReport, seen: set[str], fence: Fence | None
    ) -> None:
        """Read and keep `kind`'s tasks created between its mark and the window's end."""
        end = report.end
        mark = await self._store.archive_mark(kind)
        start = oldest_start(self._clock())
        if mark is not None and mark < start:
            # Away longer than the API keeps tasks: what was made in between is gone upstream.
            log.warning("archiver: %s tasks made from %s to %s were never seen", kind, mark, start)
        elif mark is not None:
            start = mark
        if start >= end:
            return
        newest = await self._page(kind, start, end, 1, report, fence)
        await self._keep(newest.tasks, seen, fence)
        for number in range(newest.page_count, 1, -1):
            page = await self._page(kind, start, end, number, report, fence)
            await self._keep(page.tasks, seen, fence)
            if page.tasks:
                await self._move_mark(kind, max(task.created for task in page.tasks), fence)
        await self._move_mark(kind, end, fence)

    async def _page(
        self,
        kind: ObjectType,
        start: datetime,
        end: datetime,
        number: int,
        report: ArchiveReport,
        fence: Fence | None,
    ) -> TaskPage:
        """Page `number` of [start, end], newest first. The start moves up with the API's
        horizon while a long backfill runs: that only shortens the oldest pages."""
        self._check_lead(fence)
        start = max(start, oldest_start(self._clock()))
        if start >= end:
            return TaskPage((), number, MAX_PAGE_SIZE, 0)
        request = TaskListRequest(
            object_type=kind,
            start_time=start,
            end_time=end,
            page_number=number,
            page_size=MAX_PAGE_SIZE,
        )
        answer = await self._reads.describe_refresh_tasks(
            request, fresh=True, priority=Priority.BACKGROUND
        )
        report.list_calls += 1
        report.listed += len(answer.value.tasks)
        return answer.value

    async def _follow_unfinished(
        self, report: ArchiveReport, seen: set[str], fence: Fence | None
    ) -> None:
        """Read the kept Pending and Refreshing tasks again, ten a call, and keep what they
        are now. A task older than the API's three days is no longer returned by it: it stays
        as it was last seen, and is not asked for again."""
        horizon = self._clock() - HISTORY
        wanted = [
            task.task_id
            for task in await self._store.unfinished_archived()
            if task.task_id not in seen and task.created > horizon
        ]
        for start in range(0, len(wanted), IDS_PER_LOOKUP):
            self._check_lead(fence)
            batch = tuple(wanted[start : start + IDS_PER_LOOKUP])
            answer = await self._reads.describe_refresh_task_by_id(
                batch, fresh=True, priority=Priority.BACKGROUND
            )
            report.lookup_calls += 1
            report.looked_up += len(answer.value.tasks)
            # A task the API did not return (gone between two reads) stays as last seen.
            await self._keep(answer.value.tasks, seen, fence)

    async def _keep(self, tasks: Sequence[Task], seen: set[str], fence: Fence | None) -> None:
        if not tasks:
            return
        if not await self._store.archive(tasks, self._clock(), fence=fence):
            raise _Deposed
        seen.update(task.task_id for task in tasks)

    async def _move_mark(self, kind: ObjectType, moment: datetime, fence: Fence | None) -> None:
        if not await self._store.set_archive_mark(kind, moment, fence=fence):
            raise _Deposed

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until `stop` is set, only while this replica leads (a cycle under way ends
        before its next call); a failing cycle is logged and tried again at the next tick."""
        self._stop = stop
        while not stop.is_set():
            if self._leadership is not None and not self._leadership.leading:
                # Another replica archives; look again soon, so a takeover starts at once.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._standby_tick)
                continue
            started = time.monotonic()
            try:
                report = await self.cycle()
            except Exception:
                log.exception("archiver cycle crashed, will retry")
            else:
                if report.deposed:
                    log.warning("archiver: lost the background lease during a cycle")
                for what, error in report.failed.items():
                    log.warning("archiver: reading %s stopped, will resume: %s", what, error)
                if report.listed or report.pruned:
                    log.info(
                        "archiver: %d tasks listed, %d re-read, %d pruned, %d calls",
                        report.listed,
                        report.looked_up,
                        report.pruned,
                        report.calls,
                    )
            pause = max(0.0, self._interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
