"""Failure routing, deduplication, mutes, windows and the high-water mark, as plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.tasks import ObjectType, Task, domain_matches
from bot.core.timeframe import HISTORY
from bot.core.watch import (
    Router,
    Subscription,
    next_high_water,
    owed,
    watch_window,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def failed(task_id: int, host: str, *, minutes_ago: float = 5, kind=ObjectType.FILE) -> Task:
    return Task(
        task_id=str(task_id),
        object_path=f"https://{host}/asset-{task_id}.png",
        object_type=kind,
        status="Failed",
        progress=0,
        created=NOW - timedelta(minutes=minutes_ago),
        description="Origin Timeout",
    )


def sub(channel: str, domain=None, kind=None, *, added_hours_ago: float = 24, unreachable=None):
    return Subscription(
        channel_id=channel,
        domain=domain,
        object_type=kind,
        added_by="U0ANA1234",
        added_at=NOW - timedelta(hours=added_hours_ago),
        unreachable=unreachable,
    )


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("example.com", "example.com", True),
        ("example.com", "img.example.com", False),
        ("*.example.com", "img.example.com", True),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "example.com", True),
        ("*.example.com", "badexample.com", False),
        ("img.example.com", "example.com", False),
    ],
)
def test_domain_patterns(pattern, host, expected):
    assert domain_matches(pattern, host) is expected


def test_routing_by_host_type_and_age():
    subscriptions = [
        sub("C-all"),
        sub("C-exact", "example.com"),
        sub("C-wild", "*.example.com"),
        sub("C-files", kind=ObjectType.FILE),
        sub("C-dirs", "img.example.com", ObjectType.DIRECTORY),
        sub("C-new", added_hours_ago=0.01),  # subscribed after these failures happened
        sub("C-gone", unreachable="is_archived"),
    ]
    tasks = [
        failed(1, "example.com"),
        failed(2, "img.example.com"),
        failed(3, "img.example.com", kind=ObjectType.DIRECTORY),
        failed(4, "other.org", kind=ObjectType.PRELOAD),
    ]
    routed = Router(subscriptions).route(tasks)
    ids = {channel: [t.task_id for t in found] for channel, found in routed.items()}
    assert ids == {  # same age: the newer ID first
        "C-all": ["4", "3", "2", "1"],
        "C-exact": ["1"],
        "C-wild": ["3", "2", "1"],
        "C-files": ["2", "1"],
        "C-dirs": ["3"],
    }


def test_a_task_of_the_subscriptions_own_second_counts():
    subscription = Subscription("C1", None, None, "U0ANA1234", NOW + timedelta(milliseconds=700))
    same_second = failed(1, "a.com", minutes_ago=0)  # created at NOW, the API's whole second
    assert subscription.matches(same_second)
    assert not subscription.matches(failed(2, "a.com", minutes_ago=1 / 60))


def test_a_channel_hears_of_a_task_once_even_with_overlapping_subscriptions():
    subscriptions = [sub("C1"), sub("C1", "example.com"), sub("C1", "*.example.com")]
    routed = Router(subscriptions).route([failed(1, "example.com"), failed(1, "example.com")])
    assert [t.task_id for t in routed["C1"]] == ["1"]


def test_newest_first_within_a_channel():
    tasks = [failed(1, "a.com", minutes_ago=9), failed(2, "a.com", minutes_ago=1)]
    assert [t.task_id for t in Router([sub("C1")]).route(tasks)["C1"]] == ["2", "1"]


def test_owed_skips_the_announced_and_sets_muted_apart():
    routed = {
        "C1": [failed(1, "a.com"), failed(2, "b.com"), failed(3, "img.c.com")],
        "C2": [failed(1, "a.com")],
        "C3": [failed(4, "a.com")],
    }
    due = owed(routed, {"C1": {"1"}, "C2": {"1"}}, {"C1": {"*.c.com"}, "C3": {"a.com"}})
    assert [
        (o.channel_id, [t.task_id for t in o.post], [t.task_id for t in o.muted]) for o in due
    ] == [
        ("C1", ["2"], ["3"]),
        ("C3", [], ["4"]),
    ]


@pytest.mark.parametrize(
    ("mark", "overlap", "expected_start"),
    [
        (None, HOUR, NOW - HOUR),  # first run: from now (less the overlap), no history dump
        (NOW - timedelta(minutes=1), HOUR, NOW - timedelta(minutes=61)),
        (NOW - timedelta(days=2), HOUR, NOW - timedelta(days=2, hours=1)),
        (NOW - timedelta(days=10), HOUR, NOW - HISTORY + timedelta(minutes=1)),  # long outage
        (NOW, timedelta(0), NOW - timedelta(seconds=1)),  # never an empty window
    ],
)
def test_watch_window(mark, overlap, expected_start):
    start, end = watch_window(mark, NOW + timedelta(microseconds=500), overlap=overlap)
    assert (start, end) == (expected_start, NOW)


def test_high_water_waits_for_what_is_still_owed():
    assert next_high_water(NOW, []) == NOW
    owed_tasks = [failed(1, "a.com", minutes_ago=30), failed(2, "a.com", minutes_ago=3)]
    assert next_high_water(NOW, owed_tasks) == NOW - timedelta(minutes=30)
