"""Queries that reach past the API's three days: which part the API answers, which part the
bot's own history answers, and one exact page out of both.

The two parts never overlap: the API answers tasks created from its horizon on, the history
those created before it. Pages are newest first, so the API's rows come first and the
history's follow; a page that straddles the boundary takes the API's last rows and the
history's first, and the total is the sum of both counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.query import TaskQuery
from bot.core.tasks import Task, TaskPage
from bot.core.timeframe import oldest_start
from bot.errors import InvalidQuery


@dataclass(frozen=True)
class Window:
    """Creation times the history answers: from `start`, up to `end` (itself included only
    when `through_end`: the API's horizon belongs to the API's part)."""

    start: datetime
    end: datetime
    through_end: bool


@dataclass(frozen=True)
class Split:
    """What the API is asked (`live`, None when the window lies wholly before its horizon)
    and which creation times the history answers (`history`, None when none)."""

    live: TaskQuery | None
    history: Window | None


def split(query: TaskQuery, *, now: datetime) -> Split:
    """The API's part and the history's part of `query` (task IDs: the API's alone; those it
    no longer knows are looked up afterwards)."""
    horizon = oldest_start(now)
    if query.task_ids or query.since is None or query.since >= horizon:
        return Split(query, None)
    if query.domain is not None and query.domain.startswith("*."):
        raise InvalidQuery(
            "since",
            f"{(now - query.since).days}d",
            "a `domain:*.` query reaches back three days; name one domain to search further",
        )
    if query.until is not None and query.until <= horizon:
        # Only the history: the API would refuse a window before its horizon.
        return Split(None, Window(query.since, query.until, through_end=True))
    older = Window(query.since, horizon, through_end=False)
    return Split(query.model_copy(update={"since": horizon}), older)


@dataclass(frozen=True)
class Slice:
    """Which history rows a page needs: skip `offset`, take `limit` (0: only the count)."""

    offset: int
    limit: int


def history_slice(query: TaskQuery, live: TaskPage | None) -> Slice:
    """The history rows that complete `query`'s page after the API's rows on it."""
    start = (query.page - 1) * query.size
    live_total = live.total_count if live is not None else 0
    live_rows = len(live.tasks) if live is not None else 0
    return Slice(offset=max(0, start - live_total), limit=max(0, query.size - live_rows))


def combined(
    query: TaskQuery, live: TaskPage | None, history_total: int, history_rows: Sequence[Task]
) -> TaskPage:
    """One page: the API's rows, then the history's, counted together."""
    return TaskPage(
        tasks=(*(live.tasks if live is not None else ()), *history_rows),
        page_number=query.page,
        page_size=query.size,
        total_count=(live.total_count if live is not None else 0) + history_total,
        request_ids=live.request_ids if live is not None else (),
    )
