"""Hypothesis strategies shared by the query and plan tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from bot.core.filters import MAX_URL
from bot.core.query import TaskQuery
from bot.core.tasks import ObjectType, Status

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def _moment_in_window(draw_seconds: int) -> datetime:
    return NOW - timedelta(seconds=draw_seconds)


valid_queries = st.builds(
    lambda ids, url, kind, domain, status, window, page, size, rg: TaskQuery(
        task_ids=tuple(dict.fromkeys(ids)),
        object_path=url,
        object_type=kind,
        domain=domain,
        status=status,
        since=window[0],
        until=window[1],
        page=page,
        size=size,
        resource_group=None if ids else rg,
    ),
    ids=st.lists(st.from_regex(r"[1-9]\d{0,11}", fullmatch=True), max_size=12),
    url=st.none()
    | st.builds(
        lambda path: f"https://img.example.com/{path}",
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
            max_size=MAX_URL - 24,
        ),
    ),
    kind=st.none() | st.sampled_from(ObjectType),
    domain=st.none() | st.sampled_from(["a.example.com", "bücher.example", "x-y.io"]),
    status=st.none() | st.sampled_from(Status),
    window=st.one_of(
        st.just((None, None)),
        st.integers(1, 3 * 86400).map(lambda s: (_moment_in_window(s), None)),
        st.integers(0, 3 * 86400 - 1).map(lambda s: (None, _moment_in_window(s))),
        st.tuples(st.integers(2, 3 * 86400), st.integers(0, 3 * 86400))
        .filter(lambda pair: pair[1] < pair[0])
        .map(lambda pair: (_moment_in_window(pair[0]), _moment_in_window(pair[1]))),
    ),
    page=st.integers(1, 100_000),
    size=st.integers(1, 100),
    rg=st.none() | st.from_regex(r"rg-[a-z0-9]{1,20}", fullmatch=True),
)
