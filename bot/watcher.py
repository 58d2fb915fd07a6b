"""The background loop that turns failed and stuck tasks into channel notifications.

Each cycle: scan failed tasks with a fixed number of upstream calls (one stream per type, however
many subscriptions, and none while no channel is subscribed), let core.watch decide who still has
to hear of what, post one message per channel, and record a failure as announced only once Slack
accepted the post.

Stuck tasks are a second step of the same cycle (bot.stuck), with no upstream call: the
failure step leaves a task announced stuck in a channel to that notice's thread, and one cycle
deciding both, under one lease, is what keeps a failure from being told twice in a channel.

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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.stuck import without_threaded
from bot.core.tasks import Task
from bot.core.timeframe import HISTORY
from bot.core.watch import PostOutcome, Router, next_high_water, owed, watch_window
from bot.errors import BotError
from bot.leader import Leadership
from bot.store.database import Store
from bot.store.lease import Fence
from bot.stuck import Sighting, StuckAlerts, StuckStep

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
    # Stuck tasks announced per channel, those muted, and ends told per channel.
    stuck: dict[str, int] = field(default_factory=dict)
    stuck_muted: int = 0
    ended: dict[str, int] = field(default_factory=dict)
    # The lease went to another replica during the cycle: what was left is theirs to do.
    deposed: bool = False


@dataclass
class _Cycle:
    """One cycle of a watcher: when it runs, under which lease, and what it did so far."""

    watcher: Watcher
    now: datetime
    fence: Fence | None
    report: CycleReport

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """A posting slot; whether this replica may still post (else the next leader will)."""
        async with self.watcher._slots:
            leading = self.watcher._still_leads(self.fence)
            self.report.deposed = self.report.deposed or not leading
            yield leading

    async def unreachable(self, channel_id: str, reason: str) -> None:
        """Stop posting to a channel Slack refuses."""
        await self.watcher._store.mark_unreachable(channel_id, reason)
        if channel_id not in self.report.unreachable:
            self.report.unreachable.append(channel_id)

    def fenced(self, written: bool) -> bool:
        """Note a write the lease refused (the cycle was deposed); whether it was written."""
        self.report.deposed = self.report.deposed or not written
        return written


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
        stuck: StuckAlerts | None = None,
    ) -> None:
        self._scopes = scopes or {}
        self._stuck = StuckStep(stuck, store=store, scopes=self._scopes) if stuck else None
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
        """Scan, decide, post, record; tell of stuck tasks; then move the high-water mark."""
        fence = self._fence()
        now = self._clock()
        start, end = watch_window(await self._store.high_water(), now, overlap=self._overlap)
        cycle = _Cycle(self, now, fence, CycleReport(window=(start, end)))
        report = cycle.report
        subscriptions = await self._store.all_subscriptions()
        failures: Sequence[Task] = []
        # With nobody subscribed the scan spends none of the account's API budget; the mark
        # moves all the same (subscriptions only hear of tasks created after they were made).
        if subscriptions:
            failures = await self._fetch(start, end)
        report.failures = len(failures)
        sighting = await self._stuck.sight(now, failures) if self._stuck else Sighting([], [])
        # A failure announced stuck in a channel is told in that notice's thread, not here.
        routed = without_threaded(
            Router(subscriptions, self._scopes).route(failures), sighting.notices
        )
        announced = await self._store.announced(routed) if routed else {}
        muted = await self._store.muted(now)
        undelivered: list[Task] = []

        async def record(channel_id: str, tasks: tuple[Task, ...]) -> bool:
            ids = (t.task_id for t in tasks)
            return cycle.fenced(
                await self._store.record_announced(channel_id, ids, now, fence=fence)
            )

        async def settle(channel_id: str, post: tuple[Task, ...], quiet: tuple[Task, ...]) -> None:
            if quiet and await record(channel_id, quiet):
                report.muted += len(quiet)
            if not post:
                return
            async with cycle.turn() as leading:
                if not leading:
                    return  # the next leader says it
                outcome = await self._post(channel_id, post, now=now)
            if outcome.delivered:
                await record(channel_id, post)
                report.posted[channel_id] = len(post)
            elif outcome.unreachable:
                await cycle.unreachable(channel_id, outcome.unreachable)
            else:
                undelivered.extend(post)

        await asyncio.gather(
            *(settle(o.channel_id, o.post, o.muted) for o in owed(routed, announced, muted))
        )
        report.owed = len(undelivered)
        if self._stuck is not None and not report.deposed:
            await self._stuck.run(
                cycle, sighting, subscriptions=subscriptions, failures=failures, muted=muted
            )
        if report.deposed:
            return report  # the mark stays where the next leader must start
        moved = await self._store.set_high_water(next_high_water(end, undelivered), fence=fence)
        report.deposed = not moved
        await self._store.forget_announced_before(now - HISTORY - self._overlap)
        if self._stuck is not None:
            await self._stuck.forget(now, at_least=HISTORY + self._overlap)
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
                if report.stuck or report.ended:
                    log.info(
                        "watcher: stuck tasks announced in %d channels, ends told in %d",
                        len(report.stuck),
                        len(report.ended),
                    )
            pause = max(0.0, self._interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
