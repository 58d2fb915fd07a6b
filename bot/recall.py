"""Task queries answered from the API and the bot's own history together.

The API keeps three days; the archiver keeps every task for HISTORY_DAYS. A query whose window
reaches past the API's horizon gets the older part from the history (bot.core.recall says which
part and how one page is cut from both); a task ID or a URL the API no longer knows is looked up
there too. Rows from the history are named in `Answer.archived` with when they were last seen,
so a page can say which rows are which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.cdn.limiter import Priority
from bot.core.plan import Answer, Plan, Strategy
from bot.core.query import TaskQuery
from bot.core.recall import Window, combined, history_slice, split
from bot.errors import InvalidQuery
from bot.store.database import Store


class LiveFinder(Protocol):
    """The API's answer to a query (TaskSource.find)."""

    async def __call__(
        self, query: TaskQuery, *, fresh: bool = False, caller: str = "", priority: Priority = ...
    ) -> Answer: ...


class Recall:
    """A TaskFinder over the API and the history; `kept_days` is HISTORY_DAYS."""

    def __init__(
        self,
        live: LiveFinder,
        store: Store,
        *,
        clock: Callable[[], datetime],
        kept_days: int,
    ) -> None:
        self._live = live
        self._store = store
        self._clock = clock
        self._kept = timedelta(days=kept_days)

    async def find(
        self,
        query: TaskQuery,
        *,
        fresh: bool = False,
        caller: str = "",
        priority: Priority = Priority.INTERACTIVE,
    ) -> Answer:
        """The page `query` asks for, from the API and, where it reaches, the history."""
        now = self._clock()
        part = split(query, now=now)
        live = None
        if part.live is not None:
            live = await self._live(part.live, fresh=fresh, caller=caller, priority=priority)
        if part.history is not None:
            return await self._with_history(query, live, window=part.history)
        assert live is not None
        if query.task_ids:
            known = {task.task_id for task in live.page.tasks}
            missing = [task_id for task_id in query.task_ids if task_id not in known]
            if missing and len(live.page.tasks) < query.size:
                return await self._with_history(query, live, task_ids=missing)
        if query.object_path is not None and query.since is None and not live.page.total_count:
            # A URL the API has forgotten: when it was last refreshed, if the bot saw it.
            return await self._with_history(query, live, since=now - self._kept)
        return live

    async def _with_history(
        self,
        query: TaskQuery,
        live: Answer | None,
        *,
        window: Window | None = None,
        since: datetime | None = None,
        task_ids: Sequence[str] = (),
    ) -> Answer:
        """The page with the history's rows after the API's: those of `window`, or created
        from `since` to the query's end, or among `task_ids`."""
        _searchable(query)
        page = live.page if live is not None else None
        cut = history_slice(query, page)
        total, rows = await self._store.archived(
            start=window.start if window is not None else since,
            end=window.end if window is not None else query.until,
            end_inclusive=window.through_end if window is not None else True,
            object_type=query.object_type,
            domain=query.domain,
            status=query.status,
            task_ids=task_ids,
            object_path=query.object_path,
            offset=cut.offset,
            limit=cut.limit,  # 0: only the count, when the API's rows fill the page
        )
        merged = combined(query, page, total, [row.task for row in rows])
        seen = {row.task.task_id: row.last_seen for row in rows}
        if live is None:
            return Answer(merged, Plan(query, Strategy.DIRECT, ()), 0.0, archived=seen)
        return replace(live, page=merged, archived=seen)


def _searchable(query: TaskQuery) -> None:
    """Refuse what the history cannot answer exactly (it knows no resource groups, and a
    channel limited to several domains must name one), rather than answer wrongly."""
    if query.resource_group is not None:
        raise InvalidQuery(
            "rg", query.resource_group, "resource groups reach back three days; leave out `rg:`"
        )
    if query.within and query.domain is None:
        raise InvalidQuery(
            "domain",
            ",".join(query.within),
            "this channel sees some domains only: name one (`domain:…`) to search the history",
        )
