"""The background loop that turns failed tasks into channel notifications.

Each cycle: scan failed tasks with a fixed number of upstream calls (one stream per type, however
many subscriptions, and none while no channel is subscribed), let core.watch decide who still has
to hear of what, post one message per channel, and record a failure as announced only once Slack
accepted the post.

With several replicas, only the one holding the background lease (bot.leader) runs cycles, and
every record carries the lease's epoch, so a replica that lost the lease records nothing.
Posting before recording means a failure is never lost; it can be said twice only if the
leader dies between Slack accepting a post and the record committing (milliseconds), or is
paused longer than the lease's margin right before a post.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.tasks import Task
from bot.core.timeframe import HISTORY
from bot.core.watch import PostOutcome, Router, next_high_water, owed, watch_window
from bot.errors import BotError
from bot.leader import Leadership
from bot.store.database import Store
from bot.store.lease import Fence

log = logging.getLogger(__name__)


class FetchFailures(Protocol):
    """Failed tasks created between `start` and `end` (the CDN side, as a background caller)."""

    async def __call__(self, start: datetime, end: datetime) -> Sequence[Task]: ...


class PostFailures(Protocol):
    """Tell one channel about some failed tasks (the Slack side)."""

    async def __call__(
        self, channel_id: str, tasks: Sequence[Task], *, now: datetime
    ) -> PostOutcome: ...


@dataclass
class CycleReport:
    """What one cycle did, for logs, tests and benchmarks."""

    window: tuple[datetime, datetime]
    failures: int = 0
    posted: dict[str, int] = field(default_factory=dict)
    muted: int = 0
    owed: int = 0
    unreachable: list[str] = field(default_factory=list)
    # The lease went to another replica during the cycle: what was left is theirs to do.
    deposed: bool = False


class Watcher:
    """Runs cycles every `interval`; `cycle()` alone is what tests drive."""

    def __init__(
        self,
        *,
        store: Store,
        fetch_failures: FetchFailures,
        post: PostFailures,
        clock: Callable[[], datetime],
        interval: float,
        overlap: timedelta,
        concurrency: int = 8,
        scopes: Mapping[str, Sequence[str]] | None = None,
        leadership: Leadership | None = None,
        standby_tick: float = 1.0,
    ) -> None:
        self._scopes = scopes or {}
        self._leadership = leadership
        self._standby_tick = standby_tick
        self._store = store
        self._fetch = fetch_failures
        self._post = post
        self._clock = clock
        self._interval = interval
        self._overlap = overlap
        self._slots = asyncio.Semaphore(concurrency)

    def _fence(self) -> Fence | None:
        return self._leadership.fence if self._leadership is not None else None

    def _still_leads(self, fence: Fence | None) -> bool:
        """Whether the lease this cycle started under is still this replica's to act on."""
        return self._leadership is None or (fence is not None and self._fence() == fence)

    async def cycle(self) -> CycleReport:
        """Scan, decide, post, record; then move the high-water mark."""
        fence = self._fence()
        now = self._clock()
        start, end = watch_window(await self._store.high_water(), now, overlap=self._overlap)
        report = CycleReport(window=(start, end))
        subscriptions = await self._store.all_subscriptions()
        if not subscriptions:
            # Nobody to tell: spend none of the account's API budget. Subscriptions only hear
            # of tasks created after they were made, so moving the mark loses nothing.
            report.deposed = not await self._store.set_high_water(end, fence=fence)
            return report
        failures = await self._fetch(start, end)
        report.failures = len(failures)
        routed = Router(subscriptions, self._scopes).route(failures)
        announced = await self._store.announced(routed)
        muted = await self._store.muted(now)
        undelivered: list[Task] = []

        async def record(channel_id: str, tasks: tuple[Task, ...]) -> bool:
            ids = (t.task_id for t in tasks)
            recorded = await self._store.record_announced(channel_id, ids, now, fence=fence)
            report.deposed = report.deposed or not recorded
            return recorded

        async def settle(channel_id: str, post: tuple[Task, ...], quiet: tuple[Task, ...]) -> None:
            if quiet and await record(channel_id, quiet):
                report.muted += len(quiet)
            if not post:
                return
            async with self._slots:
                if not self._still_leads(fence):
                    report.deposed = True
                    return  # the next leader says it
                outcome = await self._post(channel_id, post, now=now)
            if outcome.delivered:
                await record(channel_id, post)
                report.posted[channel_id] = len(post)
            elif outcome.unreachable:
                await self._store.mark_unreachable(channel_id, outcome.unreachable)
                report.unreachable.append(channel_id)
            else:
                undelivered.extend(post)

        await asyncio.gather(
            *(settle(o.channel_id, o.post, o.muted) for o in owed(routed, announced, muted))
        )
        report.owed = len(undelivered)
        if report.deposed:
            return report  # the mark stays where the next leader must start
        moved = await self._store.set_high_water(next_high_water(end, undelivered), fence=fence)
        report.deposed = not moved
        await self._store.forget_announced_before(now - HISTORY - self._overlap)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until `stop` is set, finishing the cycle under way (so what Slack accepted
        is recorded); a failing cycle is logged and tried again at the next tick."""
        while not stop.is_set():
            if self._leadership is not None and not self._leadership.leading:
                # Another replica watches; look again soon, so a takeover starts at once.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._standby_tick)
                continue
            started = time.monotonic()
            try:
                report = await self.cycle()
            except BotError as error:
                log.warning("watcher cycle failed, will retry: %r", error)
            except Exception:
                log.exception("watcher cycle crashed, will retry")
            else:
                if report.deposed:
                    log.warning("watcher: lost the background lease during a cycle")
                if report.posted or report.owed or report.unreachable:
                    log.info(
                        "watcher: %d failures, posted in %d channels, %d owed, %d unreachable",
                        report.failures,
                        len(report.posted),
                        report.owed,
                        len(report.unreachable),
                    )
            pause = max(0.0, self._interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
