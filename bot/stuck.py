"""Stuck-task alerts: a step of every watcher cycle, under the same lease (bot.watcher runs it).

No upstream call: the archiver's history holds every unfinished task and how each one ended,
and the cycle's own failure scan says which failed since. A task unfinished for longer than
`StuckAlerts.after` gets one notice per channel whose subscriptions want it (mutes, scopes and
subscription times as for failures); its end is told once, in that notice's thread. Notices
and ends are posted first and recorded after, under the lease's fence, as failures are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.core.stuck import (
    Ended,
    Ending,
    StuckNotice,
    endings,
    noticed,
    stuck_tasks,
)
from bot.core.tasks import FINAL, Status, Task
from bot.core.watch import PostOutcome, Router, Subscription, owed
from bot.store.database import Store
from bot.store.lease import Fence

if TYPE_CHECKING:
    from bot.watcher import CycleReport


class PostStuck(Protocol):
    """Tell one channel that some tasks are stuck (the Slack side); the outcome names the
    message their ends are told under."""

    async def __call__(
        self, channel_id: str, tasks: Sequence[Task], *, now: datetime
    ) -> PostOutcome: ...


class PostEnded(Protocol):
    """Tell one stuck notice's thread how some of its tasks ended (the Slack side)."""

    async def __call__(
        self, channel_id: str, thread_ts: str, ended: Sequence[Ended], *, unfinished: int
    ) -> PostOutcome: ...


@dataclass(frozen=True)
class StuckAlerts:
    """After how long an unfinished task is stuck, how to say so, and how long notices are
    kept: as long as the history keeps tasks, so no task is announced stuck twice."""

    after: timedelta
    post: PostStuck
    post_ended: PostEnded
    keep: timedelta


class Cycle(Protocol):
    """The watcher's cycle as the step sees it: when, under which lease, and what it did."""

    now: datetime
    fence: Fence | None
    report: CycleReport

    def turn(self) -> AbstractAsyncContextManager[bool]:
        """A posting slot; whether this replica may still post."""
        ...

    async def unreachable(self, channel_id: str, reason: str) -> None:
        """Stop posting to a channel Slack refuses."""
        ...

    def fenced(self, written: bool) -> bool:
        """Note a write the lease refused; whether it was written."""
        ...


@dataclass(frozen=True)
class Sighting:
    """What a cycle knows of stuck tasks before posting: those stuck now, and the notices
    that concern it (every open one, and any given before for a task stuck now)."""

    stuck: list[Task]
    notices: list[StuckNotice]


class StuckStep:
    """Announces newly stuck tasks and tells how announced ones ended, once per channel."""

    def __init__(
        self, alerts: StuckAlerts, *, store: Store, scopes: Mapping[str, Sequence[str]]
    ) -> None:
        self._alerts = alerts
        self._store = store
        self._scopes = scopes

    async def sight(self, now: datetime, failures: Sequence[Task]) -> Sighting:
        """The tasks stuck at `now` (none the scan just saw fail, however far behind the
        history is), and the notices about them or still waiting for their end."""
        failed = {task.task_id for task in failures}
        unfinished = await self._store.unfinished_archived()
        stuck = [
            task
            for task in stuck_tasks(unfinished, now=now, after=self._alerts.after)
            if task.task_id not in failed
        ]
        return Sighting(stuck, await self._store.stuck_notices(task.task_id for task in stuck))

    async def run(
        self,
        cycle: Cycle,
        sighting: Sighting,
        *,
        subscriptions: Sequence[Subscription],
        failures: Sequence[Task],
        muted: Mapping[str, set[str]],
    ) -> None:
        """Post the notices and the ends due, each channel apart, and record what was said."""
        wanting = [sub for sub in subscriptions if sub.stuck]
        routed = Router(wanting, self._scopes).route(sighting.stuck)
        finals = await self._finals(sighting, failures, cycle.now)
        due, quiet = endings(sighting.notices, finals)
        # A channel whose every subscription Slack refuses is not tried again.
        refused = {s.channel_id for s in subscriptions if s.unreachable}
        refused -= {s.channel_id for s in subscriptions if not s.unreachable}
        await asyncio.gather(
            *(
                self._announce(cycle, o.channel_id, o.post, o.muted)
                for o in owed(routed, noticed(sighting.notices), muted)
            ),
            *(self._tell(cycle, ending) for ending in due if ending.channel_id not in refused),
            *(self._close(cycle, channel, ids, failed=()) for channel, ids in quiet.items()),
        )

    async def forget(self, now: datetime, *, at_least: timedelta) -> None:
        """Drop notices older than the history keeps tasks (and never younger than
        `at_least`, the reach of the failure scan)."""
        await self._store.forget_stuck_before(now - max(self._alerts.keep, at_least))

    async def _finals(
        self, sighting: Sighting, failures: Sequence[Task], now: datetime
    ) -> dict[str, Ended]:
        """How the tasks of open notices ended, for those that did: from the cycle's scan,
        else from the history."""
        waiting = {n.task_id for n in sighting.notices if not n.ended}
        finals = {t.task_id: Ended(t, now) for t in failures if t.task_id in waiting}
        running = {task.task_id for task in sighting.stuck}
        lookup = sorted(waiting - running - finals.keys())
        if lookup:
            _, found = await self._store.archived(task_ids=lookup, limit=len(lookup))
            for kept in found:
                if kept.task.status in FINAL:
                    finals[kept.task.task_id] = Ended(kept.task, kept.ended_at or kept.last_seen)
        return finals

    async def _announce(
        self, cycle: Cycle, channel_id: str, post: tuple[Task, ...], quiet: tuple[Task, ...]
    ) -> None:
        report, now, fence = cycle.report, cycle.now, cycle.fence
        if quiet:
            ids = [task.task_id for task in quiet]
            if cycle.fenced(
                await self._store.record_stuck(channel_id, ids, None, now, fence=fence)
            ):
                report.stuck_muted += len(ids)
        if not post or channel_id in report.unreachable:
            return
        async with cycle.turn() as leading:
            if not leading:
                return  # the next leader says it
            outcome = await self._alerts.post(channel_id, post, now=now)
        if outcome.delivered:
            ids = [task.task_id for task in post]
            recorded = await self._store.record_stuck(channel_id, ids, outcome.ts, now, fence=fence)
            if cycle.fenced(recorded):
                report.stuck[channel_id] = len(post)
        elif outcome.unreachable:
            await cycle.unreachable(channel_id, outcome.unreachable)
        # Otherwise the tasks are still stuck next cycle, and announced then.

    async def _tell(self, cycle: Cycle, ending: Ending) -> None:
        channel_id = ending.channel_id
        if channel_id in cycle.report.unreachable:
            return
        async with cycle.turn() as leading:
            if not leading:
                return
            outcome = await self._alerts.post_ended(
                channel_id, ending.thread_ts, ending.ended, unfinished=ending.unfinished
            )
        if outcome.unreachable:
            # Nothing more can be said there: the end counts as told.
            await cycle.unreachable(channel_id, outcome.unreachable)
        elif not outcome.delivered:
            return  # told next cycle
        ids = [end.task.task_id for end in ending.ended]
        failed = [end.task.task_id for end in ending.ended if end.task.status is Status.FAILED]
        if await self._close(cycle, channel_id, ids, failed=failed) and outcome.delivered:
            told = cycle.report.ended
            told[channel_id] = told.get(channel_id, 0) + len(ids)

    async def _close(
        self, cycle: Cycle, channel_id: str, ids: Sequence[str], *, failed: Sequence[str]
    ) -> bool:
        closed = await self._store.close_stuck(
            channel_id, ids, cycle.now, failed=failed, fence=cycle.fence
        )
        return cycle.fenced(closed)
