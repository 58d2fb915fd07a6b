"""The JSON forms of cached answers: every value survives the trip, odd input is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cdn.shared.values import DOMAINS, PAGE, QUOTA
from bot.core.tasks import ObjectType, RefreshQuota, Status, Task, TaskPage


def trip(form, value):
    """`value` written as JSON text and read back, as another replica would."""
    return form.load(json.loads(json.dumps(form.dump(value))))


tasks = st.builds(
    Task,
    task_id=st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    object_path=st.text(max_size=40),
    object_type=st.sampled_from([*ObjectType, "SomethingNewer"]),
    status=st.sampled_from(Status),
    progress=st.floats(0, 100),
    created=st.datetimes(min_value=datetime(2020, 1, 1), timezones=st.just(UTC)),
    description=st.none() | st.text(max_size=20),
)


@given(
    st.lists(tasks, max_size=5),
    st.integers(1, 100),
    st.integers(0, 10_000),
    st.lists(st.text(max_size=8), max_size=3),
)
def test_a_page_comes_back_equal(page_tasks, size, total, request_ids):
    page = TaskPage(tuple(page_tasks), 2, size, total, tuple(request_ids))
    assert trip(PAGE, page) == page


def test_a_task_keeps_its_instant_and_its_unknown_type():
    created = datetime(2026, 3, 1, 12, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    task = Task("7", "https://a.example.com/x", "SomethingNewer", Status.FAILED, 0.0, created, "e")
    back = trip(PAGE, TaskPage((task,), 1, 20, 1)).tasks[0]
    assert back == task and back.created.tzinfo is UTC
    assert back.object_type == "SomethingNewer" and back.status is Status.FAILED


def test_quota_and_domains_come_back_equal():
    quota = RefreshQuota(
        url_quota=10000, url_remain=9990, dir_quota=100, dir_remain=99, regex_quota=20,
        regex_remain=20, preload_quota=500, preload_remain=480, block_quota=10, block_remain=10,
        ignore_params_quota=10, ignore_params_remain=9,
    )  # fmt: skip
    assert trip(QUOTA, quota) == quota
    assert trip(DOMAINS, ("a.example.com", "b.example.com")) == ("a.example.com", "b.example.com")


@pytest.mark.parametrize(
    ("form", "data"),
    [
        (PAGE, {}),
        (
            PAGE,
            {
                "tasks": [{"id": "1"}],
                "page_number": 1,
                "page_size": 1,
                "total_count": 1,
                "request_ids": [],
            },
        ),
        (PAGE, []),
        (QUOTA, {"url_quota": "lots"}),
        (DOMAINS, {"a": 1}),
    ],
)
def test_what_it_cannot_read_raises_a_known_error(form, data):
    with pytest.raises((ValueError, TypeError, KeyError)):
        form.load(data)
