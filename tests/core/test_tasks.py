"""Domain values: enums, failure reasons, progress, times, hosts, request parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bot.core.tasks import (
    FailureReason,
    ObjectType,
    Status,
    Task,
    TaskListRequest,
    TaskPage,
    failure_reason,
    host_of,
    newest_first,
    parse_api_time,
    parse_progress,
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Internal Error", FailureReason.INTERNAL_ERROR),
        ("InternalError", FailureReason.INTERNAL_ERROR),
        ("internal_error", FailureReason.INTERNAL_ERROR),
        ("Origin Timeout", FailureReason.ORIGIN_TIMEOUT),
        ("OriginTimeout", FailureReason.ORIGIN_TIMEOUT),
        ("Origin Return StatusCode 5XX", FailureReason.ORIGIN_5XX),
        ("OriginReturn StatusCode 5XX", FailureReason.ORIGIN_5XX),
        ("origin returned 503", FailureReason.ORIGIN_5XX),
        ("Something new", FailureReason.OTHER),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_failure_reasons_are_matched_loosely(text, reason):
    assert failure_reason(text) is reason


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("45%", 45.0),
        ("100%", 100.0),
        (" 7 % ", 7.0),
        ("", 0.0),
        ("n/a", 0.0),
        (None, 0.0),
        ("150%", 100.0),
        ("-3%", 0.0),
        ("nan%", 0.0),
        (12, 12.0),
    ],
)
def test_progress(text, value):
    assert parse_progress(text) == value


def test_api_times_are_aware_utc():
    assert parse_api_time("2014-11-27T08:23:22Z") == datetime(2014, 11, 27, 8, 23, 22, tzinfo=UTC)
    shifted = parse_api_time("2014-11-27T16:23:22+08:00")
    assert shifted == datetime(2014, 11, 27, 8, 23, 22, tzinfo=UTC) and shifted.tzinfo is UTC
    assert parse_api_time("2014-11-27T08:23:22").tzinfo is UTC


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Img.Example.com:443/a", "img.example.com"),
        ("http://a.com", "a.com"),
        ("http://a.com?x=1", "a.com"),
        ("http://user@a.com/x", "a.com"),
        ("http://[::1]:8080/x", "::1"),
        ("a.com/x", "a.com"),
    ],
)
def test_host_of(url, host):
    assert host_of(url) == host


def make_task(**overrides):
    fields = {
        "task_id": "1",
        "object_path": "http://a.com/x",
        "object_type": "file",
        "status": "Complete",
        "progress": 100,
        "created": datetime(2026, 1, 1, tzinfo=UTC),
    }
    return Task(**{**fields, **overrides})


def test_enums_accept_any_case_and_keep_unknown_types():
    assert Status("failed") is Status.FAILED
    assert ObjectType("ignoreparams") is ObjectType.IGNORE_PARAMS
    task = make_task(
        object_type="preloadEdge",
        status="pending",
        created=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))),
    )
    assert task.object_type == "preloadEdge" and task.status is Status.PENDING
    assert task.created == datetime(2025, 12, 31, 16, tzinfo=UTC) and task.created.tzinfo is UTC
    assert task.reason is None and task.domain == "a.com"
    assert make_task(object_type="DIRECTORY").object_type is ObjectType.DIRECTORY


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "Done"},
        {"created": datetime(2026, 1, 1)},
        {"progress": 101},
        {"progress": -1},
    ],
    ids=["unknown-status", "naive-time", "over-100", "negative"],
)
def test_invalid_tasks_are_refused(bad):
    with pytest.raises(ValueError):
        make_task(**bad)


def test_reason_only_for_failed_tasks():
    failed = make_task(status="Failed", description="Origin Timeout")
    assert failed.reason is FailureReason.ORIGIN_TIMEOUT
    assert make_task(status="Complete", description="Origin Timeout").reason is None


def test_list_request_parameters():
    request = TaskListRequest(
        object_type=ObjectType.FILE,
        status=Status.FAILED,
        domain_name="a.com",
        start_time=datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        end_time=datetime(2026, 1, 2, tzinfo=UTC),
    )
    assert request.api_params() == {
        "ObjectType": "file",
        "DomainName": "a.com",
        "Status": "Failed",
        "PageNumber": "1",
        "PageSize": "20",
        "StartTime": "2026-01-01T00:00:00Z",
        "EndTime": "2026-01-02T00:00:00Z",
    }
    assert hash(request) == hash(request.model_copy())
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page_number": 100_001}):
        with pytest.raises(ValidationError):
            TaskListRequest(**bad)


def test_page_count():
    assert TaskPage(tasks=(), page_number=1, page_size=20, total_count=0).page_count == 1
    assert TaskPage(tasks=(), page_number=1, page_size=20, total_count=41).page_count == 3


def test_newest_first_is_the_api_order():
    at = datetime(2026, 11, 27, 8, tzinfo=UTC)

    def task(task_id: str, created: datetime) -> Task:
        return Task(
            task_id, "https://a.example.com/x", ObjectType.FILE, Status.COMPLETE, 100, created
        )

    tasks = [task("9", at), task("10", at), task("8", at + timedelta(seconds=1)), task("x", at)]
    assert [t.task_id for t in sorted(tasks, key=newest_first)] == ["8", "10", "9", "x"]
