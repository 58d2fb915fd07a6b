"""The App Home's queries and merge: one query per kind for an open Home, one per domain
pattern (the first few) for a scoped one, the window on a whole minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.home import FAILED_ROWS, FAILED_WINDOW, SCOPE_QUERIES, home_queries, newest
from bot.core.tasks import Status, Task, TaskPage

NOW = datetime(2026, 11, 28, 12, 34, 56, 789, tzinfo=UTC)


def test_an_open_home_asks_for_failures_of_a_day_and_what_still_runs():
    queries = home_queries((), now=NOW)
    (failed,) = queries.failed
    assert failed.status is Status.FAILED and failed.size == FAILED_ROWS
    assert failed.since == datetime(2026, 11, 28, 12, 34, tzinfo=UTC) - FAILED_WINDOW
    assert failed.domain is None and failed.within == ()
    assert {query.status for query in queries.running} == {Status.REFRESHING, Status.PENDING}
    assert queries.skipped == ()


def test_within_the_same_minute_everyone_asks_the_same_query():
    later = home_queries((), now=NOW + timedelta(seconds=3))
    assert later == home_queries((), now=NOW)
    assert home_queries((), now=NOW + timedelta(minutes=1)) != home_queries((), now=NOW)


def test_a_scoped_home_asks_per_pattern_within_the_scope():
    scope = ("a.example.com", "*.b.example.com", "c.example.com", "d.example.com")
    queries = home_queries(scope, now=NOW)
    assert [query.domain for query in queries.failed] == list(scope[:SCOPE_QUERIES])
    assert all(query.within == scope for query in queries.failed + queries.running)
    assert len(queries.running) == 2 * SCOPE_QUERIES
    assert queries.skipped == scope[SCOPE_QUERIES:]


def task(task_id: str, host: str, minutes_ago: int) -> Task:
    created = NOW - timedelta(minutes=minutes_ago)
    return Task(task_id, f"https://{host}/x", "file", Status.FAILED, 0, created)


def test_newest_merges_pages_once_each_within_the_scope():
    first = TaskPage((task("3", "a.example.com", 1), task("1", "a.example.com", 9)), 1, 20, 7)
    second = TaskPage((task("2", "x.b.example.com", 5), task("3", "a.example.com", 1)), 1, 20, 2)
    stray = TaskPage((task("9", "evil.example.com", 0),), 1, 20, 1)
    tasks, total = newest(
        [first, second, stray], within=("a.example.com", "*.b.example.com"), limit=2
    )
    assert [t.task_id for t in tasks] == ["3", "2"]
    assert total == 10  # what the pages say there are, not what fits
    assert newest([], limit=5) == ((), 0)
