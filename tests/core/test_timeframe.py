"""Times people type, at the edges of what a datetime can hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.query import parse_query
from bot.core.timeframe import HISTORY, oldest_start, parse_moment
from bot.errors import InvalidQuery

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TZS = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]

BEYOND_THE_CALENDAR = [
    ("until", "9999-12-31"),
    ("since", "999999d"),
    ("since", "99999999999999d"),
    ("since", "9" * 400 + "d"),
    ("since", "99999999999999999999w"),
    ("until", "9999-12-31T23:59-05:00"),
    ("since", "0001-01-01"),
    ("since", "0001-01-01T00:00+05:00"),
]


@pytest.mark.parametrize(("field", "text"), BEYOND_THE_CALENDAR)
@pytest.mark.parametrize("tz", TZS, ids=str)
def test_times_beyond_the_calendar_are_invalid_queries(field, text, tz):
    with pytest.raises(InvalidQuery) as caught:
        parse_query(f"{field}:{text}", now=NOW, tz=tz)
    assert caught.value.field == field and caught.value.hint


@given(number=st.integers(min_value=0, max_value=10**30), unit=st.sampled_from("smhdw"))
def test_any_relative_time_parses_or_is_an_invalid_query(number, unit):
    try:
        moment = parse_moment("since", f"{number}{unit}", now=NOW, tz=UTC, end=False)
    except InvalidQuery:
        return
    assert moment <= NOW


def test_the_oldest_start_sent_keeps_clear_of_the_api_edge():
    now = NOW + timedelta(microseconds=700)
    assert oldest_start(now) == NOW - HISTORY + timedelta(minutes=1)
    assert oldest_start(now, margin=timedelta(minutes=5)) == NOW - HISTORY + timedelta(minutes=5)
