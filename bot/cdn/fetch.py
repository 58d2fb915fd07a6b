"""Answer a TaskQuery: plan it, run the calls through the cache concurrently, merge the pages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from bot.cdn.cache import Cached, CachedReads
from bot.cdn.limiter import Priority
from bot.core.plan import DEFAULT_FAN_OUT, Answer, IdLookup, merge_pages, plan_calls
from bot.core.query import TaskQuery
from bot.core.tasks import ObjectType, TaskListRequest, TaskPage


async def fetch_tasks(
    reads: CachedReads,
    query: TaskQuery,
    *,
    now: datetime,
    fan_out: Sequence[ObjectType] = DEFAULT_FAN_OUT,
    fresh: bool = False,
    priority: Priority = Priority.INTERACTIVE,
) -> Answer:
    """The page `query` asks for; `fresh` skips cached answers (the Refresh button)."""
    plan = plan_calls(query, now=now, fan_out=fan_out)

    async def run(call: TaskListRequest | IdLookup) -> Cached[TaskPage]:
        if isinstance(call, IdLookup):
            return await reads.describe_refresh_task_by_id(
                call.task_ids, fresh=fresh, priority=priority
            )
        return await reads.describe_refresh_tasks(call, fresh=fresh, priority=priority)

    answers = await asyncio.gather(*(run(call) for call in plan.calls))
    page = merge_pages(plan, [answer.value for answer in answers])
    return Answer(page, plan, max((answer.age for answer in answers), default=0.0))
