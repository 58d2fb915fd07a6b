"""The App Home dashboard, decided purely: the task queries behind it, and what it holds.

A person's Home is judged like their direct messages with the bot (the channel Slack names in
`app_home_opened`): the same allow-lists and the same domain scope as `/cdn` typed there. It
shows failures of the last 24 hours, tasks still running, today's quota, and the subscriptions
of the channels the person is in and may query in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.query import TaskQuery
from bot.core.tasks import RefreshQuota, Status, Task, TaskPage, domain_matches, newest_first
from bot.core.watch import Subscription

FAILED_WINDOW = timedelta(hours=24)
FAILED_ROWS = 20  # the newest failures shown; "Failed tasks" pages through all of them
RUNNING_ROWS = 8
# A scoped Home asks once per domain pattern; a scope of more patterns shows the first ones.
SCOPE_QUERIES = 3
SUBSCRIPTION_LINES = 15


@dataclass(frozen=True)
class HomeQueries:
    """The queries a Home runs: failures of the last day and tasks still running, each once
    per domain pattern of a scoped Home (`skipped` are the patterns it did not get to)."""

    failed: tuple[TaskQuery, ...]
    running: tuple[TaskQuery, ...]
    skipped: tuple[str, ...] = ()


def home_queries(scope: Sequence[str], *, now: datetime) -> HomeQueries:
    """What a Home limited to `scope` (no patterns: every domain) asks at `now`.

    The window starts on a whole minute, so everyone opening their Home within that minute
    asks the same query and the read cache answers all but the first."""
    since = now.replace(second=0, microsecond=0) - FAILED_WINDOW
    failed = TaskQuery(status=Status.FAILED, since=since, size=FAILED_ROWS)
    running = (
        TaskQuery(status=Status.REFRESHING, size=RUNNING_ROWS),
        TaskQuery(status=Status.PENDING, size=RUNNING_ROWS),
    )
    if not scope:
        return HomeQueries((failed,), running)
    patterns = tuple(scope)
    asked = patterns[:SCOPE_QUERIES]

    def within(query: TaskQuery, pattern: str) -> TaskQuery:
        return query.model_copy(update={"domain": pattern, "within": patterns})

    return HomeQueries(
        tuple(within(failed, pattern) for pattern in asked),
        tuple(within(query, pattern) for pattern in asked for query in running),
        patterns[SCOPE_QUERIES:],
    )


def newest(
    pages: Iterable[TaskPage], *, within: Sequence[str] = (), limit: int
) -> tuple[tuple[Task, ...], int]:
    """The newest `limit` tasks of `pages` (each once, within the scope's patterns, if any),
    and how many the pages say there are in all."""
    pages = list(pages)
    tasks = {
        task.task_id: task
        for page in pages
        for task in page.tasks
        if not within or any(domain_matches(pattern, task.domain) for pattern in within)
    }
    ordered = sorted(tasks.values(), key=newest_first)
    total = max(len(ordered), sum(page.total_count for page in pages))
    return tuple(ordered[:limit]), total


@dataclass(frozen=True)
class Dashboard:
    """Everything one person's Home shows, read at `updated`.

    `refusal` (worded) replaces the task sections when the person may not query from their
    Home; `subscriptions` is None when Slack would not say which channels they are in."""

    user: str
    updated: datetime
    scope: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    refusal: str | None = None
    may_submit: bool = False
    failed: tuple[Task, ...] = ()
    failed_total: int = 0
    running: tuple[Task, ...] = ()
    running_total: int = 0
    quota: RefreshQuota | None = None
    subscriptions: tuple[Subscription, ...] | None = ()
