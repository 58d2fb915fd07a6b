"""Planning: which calls answer a query, the API's rules on every call, and merging pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings

from bot.core.plan import (
    CALL_BUDGET,
    MERGE_DEPTH,
    IdLookup,
    Strategy,
    check_budget,
    follow_up,
    merge_pages,
    plan_calls,
)
from bot.core.query import TaskQuery, parse_query
from bot.core.tasks import ObjectType, Status, Task, TaskListRequest, TaskPage
from bot.core.timeframe import HISTORY
from bot.errors import QueryTooCostly, QueryTooDeep
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


def totals(*counts: int) -> list[TaskPage]:
    return [TaskPage((), 1, 100, count) for count in counts]


def test_fan_out_reads_page_one_of_each_stream_first():
    plan = plan_of("failed page:4 size:25")
    assert [(c.page_number, c.page_size) for c in plan.calls] == [(1, 100)] * 3
    assert follow_up(plan, totals(500, 500, 500)) == plan  # a depth of 100 is one call each
    small = plan_of("failed page:2 size:30")
    assert [(c.page_number, c.page_size) for c in small.calls] == [(1, 60)] * 3


def test_follow_up_reads_only_pages_the_totals_show_exist():
    plan = plan_of("failed page:10 size:50")  # 500 rows deep
    grown = follow_up(plan, totals(1200, 130, 7))
    more = [(c.object_type, c.page_number) for c in grown.calls[len(plan.calls) :]]
    assert more == [(F, 2), (F, 3), (F, 4), (F, 5), (D, 2)]
    assert grown.calls[: len(plan.calls)] == plan.calls


def test_a_page_past_the_end_of_every_stream_reads_nothing_more():
    plan = plan_of("failed page:10 size:50")
    assert follow_up(plan, totals(200, 100, 100)) == plan  # 400 rows < the 450 before page 10


def test_merges_deeper_than_the_limit_are_refused_before_any_call():
    size = 20
    deepest = MERGE_DEPTH // size
    assert plan_of(f"failed page:{deepest} size:{size}").calls
    with pytest.raises(QueryTooDeep) as refused:
        plan_of(f"failed page:{deepest + 1} size:{size}")
    assert (refused.value.page, refused.value.limit) == (deepest + 1, MERGE_DEPTH)
    with pytest.raises(QueryTooDeep):
        plan_of("status:failed page:100000 size:100")
    # One type: one call at any depth.
    (call,) = plan_of("status:failed type:file page:100000 size:100").calls
    assert call.page_number == 100_000


def test_the_deepest_merge_of_the_default_types_fits_the_budget():
    plan = plan_of(f"failed page:{MERGE_DEPTH // 100} size:100")
    grown = follow_up(plan, totals(10**6, 10**6, 10**6))
    assert len(grown.calls) == 3 * MERGE_DEPTH // 100 <= CALL_BUDGET
    check_budget(grown)
    with pytest.raises(QueryTooCostly) as refused:
        check_budget(grown, budget=len(grown.calls) - 1)
    assert refused.value.calls == len(grown.calls)


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
    try:
        plan = plan_calls(query, now=NOW)
    except QueryTooDeep:
        assert not query.task_ids and query.object_type is None
        assert query.page * query.size > MERGE_DEPTH
        return
    plan = follow_up(plan, totals(*[10**6] * len(plan.calls)))
    assert len(plan.calls) <= CALL_BUDGET
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
