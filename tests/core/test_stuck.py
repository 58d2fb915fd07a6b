"""Stuck tasks as plain values: which count as stuck, which failures a thread tells instead of
a new alert, and which ends are due in which thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.stuck import (
    Ended,
    Ending,
    StuckNotice,
    endings,
    noticed,
    stuck_tasks,
    without_threaded,
)
from bot.core.tasks import ObjectType, Status, Task

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AFTER = timedelta(minutes=30)


def task(task_id: str, status: str = "Refreshing", *, minutes_ago: float = 45) -> Task:
    return Task(
        task_id=task_id,
        object_path=f"https://a.example.com/{task_id}.js",
        object_type=ObjectType.FILE,
        status=Status(status),
        progress=100 if status == "Complete" else 40,
        created=NOW - timedelta(minutes=minutes_ago),
        description="Origin Timeout" if status == "Failed" else None,
    )


def notice(channel: str, task_id: str, ts: str | None = "1.1", *, ended=False) -> StuckNotice:
    return StuckNotice(channel, task_id, ts, NOW - timedelta(minutes=5), ended)


@pytest.mark.parametrize(
    ("status", "minutes_ago", "stuck"),
    [
        ("Refreshing", 45, True),
        ("Pending", 31, True),
        ("Refreshing", 30, True),  # exactly STUCK_AFTER counts
        ("Refreshing", 29.9, False),
        ("Pending", 5, False),
        ("Complete", 600, False),
        ("Failed", 600, False),
    ],
)
def test_stuck_means_unfinished_for_at_least_the_limit(status, minutes_ago, stuck):
    found = stuck_tasks([task("T1", status, minutes_ago=minutes_ago)], now=NOW, after=AFTER)
    assert bool(found) is stuck


def test_noticed_counts_muted_and_ended_notices_too():
    notices = [notice("C1", "T1"), notice("C1", "T2", None), notice("C2", "T1", ended=True)]
    assert noticed(notices) == {"C1": {"T1", "T2"}, "C2": {"T1"}}


def test_a_failure_announced_stuck_in_a_channel_is_left_to_its_thread_there_only():
    failures = [task("T1", "Failed"), task("T2", "Failed")]
    routed = {"C1": failures, "C2": failures, "C3": failures[:1], "C4": failures}
    notices = [
        notice("C1", "T1"),  # posted, end not told: the thread tells it
        notice("C2", "T1", None),  # muted: nothing was posted, so no thread either
        notice("C3", "T1"),
        notice("C4", "T1", ended=True),  # told already (and recorded as announced)
    ]
    kept = without_threaded(routed, notices)
    assert {channel: [t.task_id for t in tasks] for channel, tasks in kept.items()} == {
        "C1": ["T2"],
        "C2": ["T1", "T2"],
        "C4": ["T1", "T2"],
    }


def test_ends_are_grouped_by_thread_and_count_what_still_runs():
    done, failed = task("T1", "Complete"), task("T2", "Failed", minutes_ago=50)
    finals = {"T1": Ended(done, NOW), "T2": Ended(failed, NOW), "T9": Ended(task("T9"), NOW)}
    notices = [
        notice("C1", "T1", "1.1"),
        notice("C1", "T2", "1.1"),
        notice("C1", "T3", "1.1"),  # still running
        notice("C2", "T3", "2.2"),  # nothing ended in this thread
        notice("C2", "T1", "2.3"),
        notice("C3", "T1", None),  # muted: closed without a word
        notice("C3", "T3", None),
        notice("C4", "T2", "4.4", ended=True),  # told before
    ]
    due, quiet = endings(notices, finals)
    assert due == [
        Ending("C1", "1.1", (finals["T2"], finals["T1"]), unfinished=1),  # oldest first
        Ending("C2", "2.3", (finals["T1"],), unfinished=0),
    ]
    assert quiet == {"C3": ["T1"]}


def test_nothing_ended_nothing_due():
    assert endings([notice("C1", "T1")], {}) == ([], {})
