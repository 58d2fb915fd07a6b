"""Planning: which calls answer a query, the API's rules on every call, and merging pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings

from bot.core.plan import IdLookup, Strategy, merge_pages, plan_calls
from bot.core.query import TaskQuery, parse_query
from bot.core.tasks import ObjectType, Status, Task, TaskListRequest, TaskPage
from bot.core.timeframe import HISTORY
from tests.strategies import NOW, valid_queries

F, D, P = ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD


def plan_of(text: str, **options):
    return plan_calls(parse_query(text, now=NOW), now=NOW, **options)


def test_plain_listing_is_one_direct_call():
    plan = plan_of("page:3 size:50")
    assert plan.strategy is Strategy.DIRECT
    assert plan.calls == (TaskListRequest(page_number=3, page_size=50),)


def test_type_given_means_no_fan_out():
    plan = plan_of("failed type:file www.example.com")
    assert plan.calls == (
        TaskListRequest(
            object_type=F, status=Status.FAILED, domain_name="www.example.com", page_size=20
        ),
    )


def test_status_without_type_fans_out_over_the_type_set():
    plan = plan_of("failed")
    assert plan.strategy is Strategy.MERGE
    assert [(c.object_type, c.page_number, c.page_size) for c in plan.calls] == [
        (F, 1, 20),
        (D, 1, 20),
        (P, 1, 20),
    ]
    custom = plan_of("domain:a.example.com", fan_out=(F, ObjectType.REGEX, F))
    assert [call.object_type for call in custom.calls] == [F, ObjectType.REGEX]


def test_fan_out_reads_each_stream_only_as_deep_as_the_page():
    assert [(c.page_number, c.page_size) for c in plan_of("failed page:4 size:25").calls] == [
        (1, 100)
    ] * 3
    deep = plan_of("failed page:3 size:50", fan_out=(F,))
    assert [(c.page_number, c.page_size) for c in deep.calls] == [(1, 100), (2, 100)]


def test_task_ids_are_looked_up_ten_at_a_time():
    ids = ",".join(str(n) for n in range(1, 24))
    plan = plan_of(f"id:{ids} failed")
    assert plan.strategy is Strategy.LOOKUP
    assert [len(call.task_ids) for call in plan.calls] == [10, 10, 3]
    assert all(isinstance(call, IdLookup) for call in plan.calls)


def test_time_window_always_sends_both_ends_inside_the_history():
    (call,) = plan_of("since:3d type:file").calls
    assert call.start_time > NOW - HISTORY and call.end_time == NOW
    (call,) = plan_of("until:1h").calls
    assert call.start_time > NOW - HISTORY and call.end_time == NOW - timedelta(hours=1)
    (call,) = plan_calls(TaskQuery(), now=NOW).calls
    assert call.start_time is None and call.end_time is None


def test_window_that_left_the_history_plans_nothing():
    query = TaskQuery(until=NOW - HISTORY + timedelta(seconds=30))
    plan = plan_calls(query, now=NOW)
    assert plan.calls == ()
    page = merge_pages(plan, [])
    assert page.tasks == () and page.total_count == 0


@settings(max_examples=400, deadline=None)
@given(query=valid_queries)
def test_every_planned_call_follows_the_api_rules(query):
    plan = plan_calls(query, now=NOW)
    for call in plan.calls:
        if isinstance(call, IdLookup):
            assert 1 <= len(call.task_ids) <= 10
            continue
        if call.domain_name or call.status:
            assert call.object_type is not None
        assert (call.start_time is None) == (call.end_time is None)
        if call.start_time is not None:
            assert NOW - HISTORY < call.start_time < call.end_time <= NOW
        assert 1 <= call.page_size <= 100 and 1 <= call.page_number <= 100_000


def task(task_id: int, minutes_ago: int, kind=F, status="Complete", path="http://a.com/x"):
    return Task(
        task_id=str(task_id),
        object_path=path,
        object_type=kind,
        status=status,
        progress=100,
        created=NOW - timedelta(minutes=minutes_ago),
    )


def test_merge_slices_the_newest_first_union_and_sums_totals():
    plan = plan_calls(TaskQuery(status=Status.COMPLETE, page=2, size=2), now=NOW)
    files = TaskPage((task(1, 1), task(2, 5), task(3, 9), task(4, 12)), 1, 4, 7, ("r1",))
    dirs = TaskPage((task(5, 3, D), task(6, 4, D)), 1, 4, 2, ("r2",))
    preloads = TaskPage((), 1, 4, 0, ("r3",))
    page = merge_pages(plan, [files, dirs, preloads])
    assert [t.task_id for t in page.tasks] == ["6", "2"]
    assert page.total_count == 9 and page.page_number == 2 and page.page_size == 2
    assert page.request_ids == ("r1", "r2", "r3")


def test_lookup_filters_locally_and_orders_newest_first():
    query = parse_query("id:1,2,3 failed", now=NOW)
    plan = plan_calls(query, now=NOW)
    found = TaskPage(
        (task(1, 9, status="Failed"), task(2, 1, status="Complete"), task(3, 2, status="Failed")),
        1,
        3,
        3,
    )
    page = merge_pages(plan, [found])
    assert [t.task_id for t in page.tasks] == ["3", "1"] and page.total_count == 2


def test_answers_must_match_the_calls():
    plan = plan_calls(TaskQuery(), now=NOW)
    with pytest.raises(ValueError):
        merge_pages(plan, [])
