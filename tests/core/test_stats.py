"""The numbers of /cdn stats: totals, failure rate, failing domains and reasons, time to
complete, the period before, the chart's series, channel scopes, and the button's query."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.access import Policy
from bot.core.query import Stats, parse_query
from bot.core.stats import (
    DAY,
    HOUR,
    Durations,
    bucket_start,
    count_change,
    covers,
    decode_stats,
    duration_text,
    durations,
    encode_stats,
    percent_text,
    percentile,
    period_before,
    period_text,
    rate_change,
    report,
    series,
    stats_scope,
    summarize,
)
from bot.core.tasks import FailureReason, ObjectType, Status, Task
from bot.errors import InvalidQuery, NotAllowed

NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
DAY_QUERY = Stats(since=NOW - DAY, until=NOW)


@dataclass(frozen=True)
class Kept:
    task: Task
    ended_at: datetime | None = None


_ids = iter(range(700_000_000, 800_000_000))


def kept(
    ago: timedelta,
    status: Status = Status.COMPLETE,
    *,
    host: str = "www.example.com",
    took: timedelta | None = None,
    reason: str | None = None,
    kind: ObjectType = ObjectType.FILE,
) -> Kept:
    created = NOW - ago
    task = Task(
        str(next(_ids)),
        f"https://{host}/a.js",
        kind,
        status,
        100.0 if status is Status.COMPLETE else 0.0,
        created,
        reason if status is Status.FAILED else None,
    )
    ended = created + took if took is not None else None
    return Kept(task, ended)


def test_a_day_of_tasks_in_numbers():
    records = [
        *(kept(timedelta(hours=h, minutes=10), took=timedelta(minutes=h + 1)) for h in range(10)),
        kept(timedelta(hours=1), Status.FAILED, host="img.example.com", reason="Origin Timeout"),
        kept(timedelta(hours=2), Status.FAILED, host="img.example.com", reason="InternalError"),
        kept(timedelta(hours=3), Status.FAILED, host="www.example.com", reason="Origin Timeout"),
        kept(timedelta(hours=4), Status.FAILED, host="a.example.com"),
        kept(timedelta(minutes=5), Status.REFRESHING),
        kept(timedelta(minutes=1), Status.PENDING),
    ]
    summary = summarize(records, NOW - DAY, NOW)
    assert summary.total == 16
    assert summary.count(Status.COMPLETE) == 10
    assert summary.count(Status.FAILED) == 4
    assert summary.running == 2
    assert summary.failure_rate == pytest.approx(4 / 14)
    assert summary.failing_domains == (
        ("img.example.com", 2),
        ("a.example.com", 1),
        ("www.example.com", 1),
    )
    assert summary.reasons == (
        (FailureReason.ORIGIN_TIMEOUT, 2),
        (FailureReason.INTERNAL_ERROR, 1),
        (FailureReason.OTHER, 1),  # no description given: counted, as "Other"
    )
    # 1..10 minutes: the median between 5 and 6, p90 at 9.1 minutes.
    assert summary.durations == Durations(
        10, median=timedelta(seconds=330), p90=timedelta(seconds=546)
    )


def test_nothing_finished_has_no_rate_and_no_durations():
    summary = summarize([kept(timedelta(hours=1), Status.PENDING)], NOW - DAY, NOW)
    assert summary.failure_rate is None
    assert summary.durations == Durations(0)
    assert summarize([], NOW - DAY, NOW).total == 0


def test_time_to_complete_counts_completed_tasks_only_and_never_below_zero():
    records = [
        kept(timedelta(hours=1), took=timedelta(minutes=4)),
        kept(timedelta(hours=1), Status.FAILED, took=timedelta(hours=5)),
        kept(timedelta(hours=1)),  # complete, but its end was never seen
        kept(timedelta(hours=1), took=timedelta(seconds=-30)),  # clocks apart
    ]
    assert durations(records) == Durations(
        2, median=timedelta(minutes=2), p90=timedelta(seconds=216)
    )


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [([5.0], 0.9, 5.0), ([1.0, 2.0], 0.5, 1.5), ([1.0, 2.0, 3.0, 4.0], 0.9, 3.7)],
)
def test_percentiles_interpolate(values, share, expected):
    assert percentile(values, share) == pytest.approx(expected)


def test_the_period_before_has_the_same_length_and_shares_no_task():
    assert period_before(DAY_QUERY) == (NOW - 2 * DAY, NOW - DAY)
    records = [
        kept(timedelta(hours=1), Status.FAILED),
        kept(DAY),  # exactly at `since`: this period's
        kept(DAY + timedelta(seconds=1)),
        kept(DAY + timedelta(hours=3), Status.FAILED),
        kept(2 * DAY + timedelta(seconds=1)),  # older than both
    ]
    found = report(records, DAY_QUERY)
    assert (found.current.total, found.current.count(Status.FAILED)) == (2, 1)
    assert (found.before.total, found.before.count(Status.FAILED)) == (2, 1)
    assert not found.before_partial
    partial = report(records, DAY_QUERY, kept_since=NOW - timedelta(days=1, hours=12))
    assert partial.before_partial


def test_tasks_per_hour_by_status_on_the_readers_clock():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: hours there are not hours in UTC
    query = Stats(since=NOW - timedelta(hours=3), until=NOW)
    records = [
        kept(timedelta(minutes=10), Status.FAILED),  # 10:20 UTC = 15:50 in Kolkata
        kept(timedelta(minutes=25)),  # 10:05 UTC = 15:35
        kept(timedelta(minutes=40)),  # 09:50 UTC = 15:20
        kept(timedelta(hours=2, minutes=59)),  # 07:31 UTC = 13:01
        kept(timedelta(hours=5)),  # before the period
    ]
    found = series(records, query.since, query.until, tz=kolkata)
    assert found.step == HOUR and found.per == "hour"
    assert found.start == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)  # 13:00 in Kolkata
    counts = dict(found.counts)
    assert counts[Status.COMPLETE] == (1, 0, 2)  # 13:00, 14:00, 15:00 (the end: 16:00)
    assert counts[Status.FAILED] == (0, 0, 1)
    assert found.buckets == 3
    hash(found)  # it keys the chart cache


def test_long_periods_are_counted_per_day():
    query = Stats(since=NOW - timedelta(days=10), until=NOW)
    found = series([kept(timedelta(days=9, hours=1)), kept(timedelta(hours=1))], *query_span(query))
    assert found.step == DAY and found.per == "day"
    assert found.buckets == 11
    assert sum(dict(found.counts)[Status.COMPLETE]) == 2
    assert bucket_start(NOW, DAY, timezone(timedelta(hours=8))) == datetime(
        2026, 11, 26, 16, tzinfo=UTC
    )


def query_span(query: Stats) -> tuple[datetime, datetime]:
    return query.since, query.until


def test_domain_type_and_channel_scope_filter_every_number():
    records = [
        kept(timedelta(hours=1), Status.FAILED, host="img.example.com"),
        kept(timedelta(hours=1), host="www.example.com"),
        kept(timedelta(hours=1), Status.FAILED, host="secret.example.org"),
        kept(timedelta(hours=1), host="www.example.com", kind=ObjectType.DIRECTORY),
    ]
    scoped = report(records, DAY_QUERY, within=("*.example.com",))
    assert scoped.current.total == 3
    assert [domain for domain, _ in scoped.current.failing_domains] == ["img.example.com"]
    assert sum(sum(counts) for _, counts in scoped.series.counts) == 3
    typed = Stats(since=DAY_QUERY.since, until=NOW, object_type=ObjectType.FILE)
    assert report(records, typed, within=("*.example.com",)).current.total == 2
    one = Stats(since=DAY_QUERY.since, until=NOW, domain="www.example.com")
    assert report(records, one).current.total == 2
    assert not covers(one, (), records[0].task)


def test_a_limited_channel_may_ask_only_for_its_domains():
    policy = Policy(scopes={"C1": ("*.example.com", "cdn.example.net")})
    assert stats_scope(policy, DAY_QUERY, "C1") == ("*.example.com", "cdn.example.net")
    assert stats_scope(policy, DAY_QUERY, "C2") == ()
    mine = Stats(since=DAY_QUERY.since, until=NOW, domain="img.example.com")
    assert stats_scope(policy, mine, "C1")
    with pytest.raises(NotAllowed) as refused:
        stats_scope(policy, Stats(since=DAY_QUERY.since, until=NOW, domain="a.other.org"), "C1")
    assert "a.other.org" in refused.value.what
    with pytest.raises(NotAllowed):
        stats_scope(policy, DAY_QUERY, "  ")


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(seconds=42), "42 s"),
        (timedelta(minutes=5, seconds=12), "5 min 12 s"),
        (timedelta(minutes=9), "9 min"),
        (timedelta(hours=1, minutes=3, seconds=20), "1 h 3 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=2, hours=4), "2 d 4 h"),
        (timedelta(seconds=-5), "0 s"),
    ],
)
def test_durations_read_short(span, words):
    assert duration_text(span) == words


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [
        (112, 100, "+12% on the 24 h before"),
        (70, 100, "-30% on the 24 h before"),
        (5, 5, "same as the 24 h before"),
        (3, 0, "none the 24 h before"),
        (0, 4, "-100% on the 24 h before"),
    ],
)
def test_counts_compared(now, before, words):
    assert count_change(now, before, "24 h") == words


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(days=1), "24 h"),
        (timedelta(hours=6), "6 h"),
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(days=7), "7 d"),
        (timedelta(days=2, hours=3), "2 d 3 h"),
    ],
)
def test_periods_read_as_people_say_them(span, words):
    assert period_text(Stats(since=NOW - span, until=NOW)) == words


def test_rates_compared_in_points():
    assert rate_change(0.057, 0.045) == "+1.2 pts"
    assert rate_change(0.02, 0.05) == "-3.0 pts"
    assert rate_change(0.05, 0.05) == "same"
    assert rate_change(None, 0.05) is None
    assert (percent_text(0.0451), percent_text(0.25), percent_text(None)) == ("4.5%", "25%", "n/a")


def test_the_button_carries_the_query_exactly():
    typed = parse_query(
        "stats domain:img.example.com type:dir since:3d", now=NOW, tz=UTC, kept_days=30
    )
    assert isinstance(typed, Stats)
    value = encode_stats(typed)
    assert value.startswith("s1;") and len(value) < 2000
    assert decode_stats(value, kept_days=30) == typed
    assert decode_stats(encode_stats(DAY_QUERY), kept_days=3) == DAY_QUERY


@pytest.mark.parametrize(
    "value",
    [
        "q1;d=a.com",
        "s1",
        "s1;f=2026-11-27T10:00:00Z",
        "s1;f=2026-11-27T10:00:00Z;u=2026-11-26T10:00:00Z",  # ends before it starts
        "s1;f=2026-01-01T00:00:00Z;u=2026-11-26T10:00:00Z",  # longer than the history
        "s1;f=2026-11-26T10:00:00Z;u=2026-11-27T10:00:00Z;d=not a domain",
        "s1;f=2026-11-26T10:00:00Z;u=2026-11-27T10:00:00Z;t=video",
        "s1;f=2026-11-26T10:00:00Z;u=2026-11-27T10:00:00Z;f=2026-11-26T11:00:00Z",
        "s1;f=yesterday;u=2026-11-27T10:00:00Z",
    ],
)
def test_a_damaged_button_is_refused_in_words(value):
    with pytest.raises(InvalidQuery):
        decode_stats(value, kept_days=30)


@given(st.one_of(st.text(max_size=200), st.text(max_size=200).map(lambda text: "s1;" + text)))
def test_any_button_value_is_a_query_or_invalid(value):
    with contextlib.suppress(InvalidQuery):
        assert isinstance(decode_stats(value, kept_days=30), Stats)
