"""Answer a TaskQuery: plan it, run the calls through the cache concurrently, merge the pages.

A merged query runs in two rounds (the first page of every stream, then the pages their totals
show exist), each checked against the per-command call budget before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from datetime import datetime

from bot.cdn.cache import Cached, CachedReads
from bot.cdn.limiter import Priority
from bot.core.plan import (
    CALL_BUDGET,
    DEFAULT_FAN_OUT,
    Answer,
    IdLookup,
    check_budget,
    follow_up,
    merge_pages,
    plan_calls,
)
from bot.core.query import TaskQuery
from bot.core.tasks import MAX_PAGE_SIZE, ObjectType, Status, Task, TaskListRequest, TaskPage
from bot.core.watch import WATCHED_TYPES


async def fetch_tasks(
    reads: CachedReads,
    query: TaskQuery,
    *,
    now: datetime,
    fan_out: Sequence[ObjectType] = DEFAULT_FAN_OUT,
    fresh: bool = False,
    priority: Priority = Priority.INTERACTIVE,
    caller: str = "",
    budget: int = CALL_BUDGET,
) -> Answer:
    """The page `query` asks for; `fresh` skips cached answers (the Refresh button); `caller`
    is the person waiting, who takes turns with others for the API's rate."""
    plan = plan_calls(query, now=now, fan_out=fan_out)
    check_budget(plan, budget=budget)

    async def run(call: TaskListRequest | IdLookup) -> Cached[TaskPage]:
        if isinstance(call, IdLookup):
            return await reads.describe_refresh_task_by_id(
                call.task_ids, fresh=fresh, priority=priority, caller=caller
            )
        return await reads.describe_refresh_tasks(
            call, fresh=fresh, priority=priority, caller=caller
        )

    first = await _all(run(call) for call in plan.calls)
    grown = follow_up(plan, [answer.value for answer in first])
    check_budget(grown, budget=budget)
    answers = first + await _all(run(call) for call in grown.calls[len(plan.calls) :])
    page = merge_pages(grown, [answer.value for answer in answers])
    return Answer(page, grown, max((answer.age for answer in answers), default=0.0))


async def _all(calls: Iterable[Awaitable[Cached[TaskPage]]]) -> list[Cached[TaskPage]]:
    """Every call's answer; the first failure cancels the calls still waiting."""
    running = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*running))
    except BaseException:
        for task in running:
            task.cancel()
        raise


async def failed_tasks(
    reads: CachedReads,
    *,
    start: datetime,
    end: datetime,
    types: Sequence[ObjectType] = WATCHED_TYPES,
) -> list[Task]:
    """Every failed task created in [start, end], one paged stream per type, as a background
    caller: the number of calls depends on the failures, never on who is subscribed."""

    async def stream(kind: ObjectType) -> list[Task]:
        found: list[Task] = []
        number = 1
        while True:
            request = TaskListRequest(
                object_type=kind,
                status=Status.FAILED,
                start_time=start,
                end_time=end,
                page_number=number,
                page_size=MAX_PAGE_SIZE,
            )
            cached = await reads.describe_refresh_tasks(
                request, fresh=True, priority=Priority.BACKGROUND
            )
            found += cached.value.tasks
            if number * MAX_PAGE_SIZE >= cached.value.total_count or not cached.value.tasks:
                return found
            number += 1

    streams = await asyncio.gather(*(stream(kind) for kind in dict.fromkeys(types)))
    return [task for tasks in streams for task in tasks]
