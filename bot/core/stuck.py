"""Stuck-task alerts, decided purely: which unfinished tasks count as stuck, which failures a
channel hears of in a stuck notice's thread rather than as a new alert, and what each thread
still has to be told about how its tasks ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.tasks import UNFINISHED, Task


@dataclass(frozen=True)
class StuckNotice:
    """A channel was told a task is stuck, under the message `message_ts`; None when the task's
    domain was muted there (recorded, never posted, so nothing is told later either). `ended`:
    the task's end was told in the thread (or, muted, passed)."""

    channel_id: str
    task_id: str
    message_ts: str | None
    noticed_at: datetime
    ended: bool = False


@dataclass(frozen=True)
class Ended:
    """A task in its final state, and when it got there (as closely as the bot saw it)."""

    task: Task
    at: datetime


@dataclass(frozen=True)
class Ending:
    """A reply due in one notice's thread: its tasks that ended, and how many still run."""

    channel_id: str
    thread_ts: str
    ended: tuple[Ended, ...]
    unfinished: int


def stuck_tasks(tasks: Iterable[Task], *, now: datetime, after: timedelta) -> list[Task]:
    """The tasks still Pending or Refreshing `after` or longer since they were created."""
    limit = now - after
    return [task for task in tasks if task.status in UNFINISHED and task.created <= limit]


def noticed(notices: Iterable[StuckNotice]) -> dict[str, set[str]]:
    """The task IDs each channel was told (or muted) are stuck."""
    found: dict[str, set[str]] = defaultdict(set)
    for notice in notices:
        found[notice.channel_id].add(notice.task_id)
    return dict(found)


def without_threaded(
    routed: Mapping[str, Sequence[Task]], notices: Iterable[StuckNotice]
) -> dict[str, list[Task]]:
    """`routed` failures less those a channel hears of in the thread of a stuck notice posted
    there: a task announced stuck ends in its thread, never in a new alert."""
    threaded: dict[str, set[str]] = defaultdict(set)
    for n in notices:
        if n.message_ts is not None and not n.ended:
            threaded[n.channel_id].add(n.task_id)
    result = {}
    for channel, tasks in routed.items():
        told = threaded.get(channel)
        kept = [task for task in tasks if task.task_id not in told] if told else list(tasks)
        if kept:
            result[channel] = kept
    return result


def endings(
    notices: Iterable[StuckNotice], finals: Mapping[str, Ended]
) -> tuple[list[Ending], dict[str, list[str]]]:
    """For open notices: the replies due (one per notice message whose tasks ended, oldest
    first), and per channel the muted notices whose task ended (closed without a word)."""
    threads: dict[tuple[str, str], list[StuckNotice]] = defaultdict(list)
    quiet: dict[str, list[str]] = defaultdict(list)
    for notice in notices:
        if notice.ended:
            continue
        if notice.message_ts is not None:
            threads[notice.channel_id, notice.message_ts].append(notice)
        elif notice.task_id in finals:
            quiet[notice.channel_id].append(notice.task_id)
    due = []
    for (channel, ts), members in sorted(threads.items()):
        ended = [finals[n.task_id] for n in members if n.task_id in finals]
        if ended:
            ended.sort(key=lambda end: (end.task.created, end.task.task_id))
            due.append(Ending(channel, ts, tuple(ended), len(members) - len(ended)))
    return due, dict(quiet)
