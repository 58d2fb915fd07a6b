"""The background loop that turns failed tasks into channel notifications.

Each cycle: scan failed tasks with a fixed number of upstream calls (one stream per type, however
many subscriptions, and none while no channel is subscribed), let core.watch decide who still has
to hear of what, post one message per channel, and record a failure as announced only once Slack
accepted the post.
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
from bot.store.database import Store

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
    ) -> None:
        self._scopes = scopes or {}
        self._store = store
        self._fetch = fetch_failures
        self._post = post
        self._clock = clock
        self._interval = interval
        self._overlap = overlap
        self._slots = asyncio.Semaphore(concurrency)

    async def cycle(self) -> CycleReport:
        """Scan, decide, post, record; then move the high-water mark."""
        now = self._clock()
        start, end = watch_window(await self._store.high_water(), now, overlap=self._overlap)
        report = CycleReport(window=(start, end))
        subscriptions = await self._store.all_subscriptions()
        if not subscriptions:
            # Nobody to tell: spend none of the account's API budget. Subscriptions only hear
            # of tasks created after they were made, so moving the mark loses nothing.
            await self._store.set_high_water(end)
            return report
        failures = await self._fetch(start, end)
        report.failures = len(failures)
        routed = Router(subscriptions, self._scopes).route(failures)
        announced = await self._store.announced(routed)
        muted = await self._store.muted(now)
        undelivered: list[Task] = []

        async def settle(channel_id: str, post: tuple[Task, ...], quiet: tuple[Task, ...]) -> None:
            if quiet:
                await self._store.record_announced(channel_id, (t.task_id for t in quiet), now)
                report.muted += len(quiet)
            if not post:
                return
            async with self._slots:
                outcome = await self._post(channel_id, post, now=now)
            if outcome.delivered:
                await self._store.record_announced(channel_id, (t.task_id for t in post), now)
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
        await self._store.set_high_water(next_high_water(end, undelivered))
        await self._store.forget_announced_before(now - HISTORY - self._overlap)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until `stop` is set, finishing the cycle under way (so what Slack accepted
        is recorded); a failing cycle is logged and tried again at the next tick."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                report = await self.cycle()
            except BotError as error:
                log.warning("watcher cycle failed, will retry: %r", error)
            except Exception:
                log.exception("watcher cycle crashed, will retry")
            else:
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
