"""What `/cdn stats` tells, decided purely: a period's tasks → totals by status, failure rate,
where and why tasks failed, how long they took to complete, and tasks per hour by status; the
same for the period just before, to compare with; and a channel's scope applied to all of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from bot.core import filters
from bot.core.access import Act, Policy
from bot.core.query import Stats
from bot.core.tasks import (
    FailureReason,
    ObjectType,
    Status,
    Task,
    domain_matches,
    format_api_time,
    parse_api_time,
)
from bot.errors import InvalidQuery, NotAllowed

TOP = 5  # failing domains named
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# Longer periods are counted per day: past about a hundred bars a chart shows only noise.
HOURLY_UP_TO = timedelta(days=7)
# Statuses in the order a stacked chart and a summary list them: failures first, to stand out.
SHOWN_ORDER = (Status.FAILED, Status.COMPLETE, Status.REFRESHING, Status.PENDING)


class Record(Protocol):
    """A task the history kept, and when it was first seen Complete or Failed."""

    @property
    def task(self) -> Task: ...

    @property
    def ended_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Durations:
    """How long the completed tasks of a period took, from creation to first seen Complete."""

    count: int
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass(frozen=True)
class Summary:
    """One period's numbers."""

    since: datetime
    until: datetime
    counts: tuple[tuple[Status, int], ...]  # every status, in SHOWN_ORDER
    durations: Durations
    failing_domains: tuple[tuple[str, int], ...]  # the most failures first
    reasons: tuple[tuple[FailureReason, int], ...]  # the most common first

    def count(self, status: Status) -> int:
        """How many tasks of the period are in `status` (as last seen)."""
        return dict(self.counts).get(status, 0)

    @property
    def total(self) -> int:
        """Every task created in the period."""
        return sum(number for _, number in self.counts)

    @property
    def running(self) -> int:
        """Tasks not finished when last seen."""
        return self.count(Status.PENDING) + self.count(Status.REFRESHING)

    @property
    def failure_rate(self) -> float | None:
        """Failed ÷ finished (0..1); None when nothing finished."""
        finished = self.count(Status.COMPLETE) + self.count(Status.FAILED)
        return self.count(Status.FAILED) / finished if finished else None


@dataclass(frozen=True)
class Series:
    """Tasks per bucket (an hour, or a day for long periods) by status, from `start` on, with
    bucket edges on the reader's clock; hashable, so it keys the chart cache."""

    start: datetime
    step: timedelta
    tz: tzinfo
    counts: tuple[tuple[Status, tuple[int, ...]], ...]  # SHOWN_ORDER

    @property
    def buckets(self) -> int:
        """How many bars the chart has."""
        return len(self.counts[0][1]) if self.counts else 0

    @property
    def per(self) -> str:
        """'hour' or 'day'."""
        return "day" if self.step >= DAY else "hour"


@dataclass(frozen=True)
class Report:
    """The answer to a `Stats` query: this period, the one before it, the chart's series."""

    query: Stats
    within: tuple[str, ...]  # the channel's domain patterns, when it is limited
    current: Summary
    before: Summary
    series: Series
    # The oldest moment the history still holds: a period before that is only partly known.
    kept_since: datetime | None = None

    @property
    def before_partial(self) -> bool:
        """Whether the period before reaches back past what the history keeps."""
        return self.kept_since is not None and self.before.since < self.kept_since


def period_before(query: Stats) -> tuple[datetime, datetime]:
    """The period of the same length just before `query`'s."""
    return query.since - (query.until - query.since), query.since


def stats_scope(policy: Policy, query: Stats, channel: str) -> tuple[str, ...]:
    """The domain patterns `channel` limits stats to (empty: not limited); NotAllowed when
    `query` names a domain outside them. Stats without a domain cover every domain the
    channel sees, and only those."""
    policy.placed(channel, Act.QUERY.value)
    patterns = policy.scope(channel)
    domain = query.domain
    if patterns and domain is not None and not any(domain_matches(p, domain) for p in patterns):
        listed = ", ".join(f"`{pattern}`" for pattern in patterns)
        raise NotAllowed(
            f"see tasks of {domain}", policy.contact, detail=f"This channel sees {listed}."
        )
    return patterns


def covers(query: Stats, within: Sequence[str], task: Task) -> bool:
    """Whether `task` counts for `query` in a channel limited to `within` (empty: any)."""
    domain = task.domain
    if query.domain is not None and domain != query.domain:
        return False
    if query.object_type is not None and task.object_type != query.object_type:
        return False
    return not within or any(domain_matches(pattern, domain) for pattern in within)


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile of sorted `values`, interpolated between neighbours."""
    if not values:
        raise ValueError("no values")
    position = share * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def durations(records: Iterable[Record]) -> Durations:
    """Median and p90 of ended_at - created over the completed tasks among `records`."""
    seconds = sorted(
        max(0.0, (record.ended_at - record.task.created).total_seconds())
        for record in records
        if record.task.status is Status.COMPLETE and record.ended_at is not None
    )
    if not seconds:
        return Durations(0)
    return Durations(
        len(seconds),
        median=timedelta(seconds=round(percentile(seconds, 0.5))),
        p90=timedelta(seconds=round(percentile(seconds, 0.9))),
    )


def summarize(records: Sequence[Record], since: datetime, until: datetime) -> Summary:
    """The numbers of the tasks among `records` created in [since, until)."""
    inside = [r for r in records if since <= r.task.created < until]
    statuses = Counter(record.task.status for record in inside)
    failed = [record.task for record in inside if record.task.status is Status.FAILED]
    domains = Counter(task.domain for task in failed)
    reasons = Counter(task.reason or FailureReason.OTHER for task in failed)
    return Summary(
        since=since,
        until=until,
        counts=tuple((status, statuses[status]) for status in SHOWN_ORDER),
        durations=durations(inside),
        # Ties in name order, so the same data always reads the same.
        failing_domains=tuple(sorted(domains.items(), key=lambda item: (-item[1], item[0]))[:TOP]),
        reasons=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0].value))),
    )


def bucket_start(moment: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The start of the bucket holding `moment`: its hour, or its day, on the reader's clock."""
    local = moment.astimezone(tz)
    if step >= DAY:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def series(
    records: Sequence[Record], since: datetime, until: datetime, *, tz: tzinfo = UTC
) -> Series:
    """Tasks created in [since, until) per hour (per day past HOURLY_UP_TO) by status."""
    step = HOUR if until - since <= HOURLY_UP_TO else DAY
    start = bucket_start(since, step, tz)
    buckets = max(1, math.ceil((until - start) / step))
    counts = {status: [0] * buckets for status in SHOWN_ORDER}
    for record in records:
        task = record.task
        if since <= task.created < until:
            at = min(buckets - 1, int((task.created - start) / step))
            counts[task.status][at] += 1
    return Series(
        start=start,
        step=step,
        tz=tz,
        counts=tuple((status, tuple(counts[status])) for status in SHOWN_ORDER),
    )


def report(
    records: Iterable[Record],
    query: Stats,
    *,
    within: Sequence[str] = (),
    tz: tzinfo = UTC,
    kept_since: datetime | None = None,
) -> Report:
    """`query` answered from `records` (this period's and the one before), keeping only the
    tasks of its domain and type within the channel's `within` patterns."""
    kept = [record for record in records if covers(query, within, record.task)]
    start, _ = period_before(query)
    return Report(
        query=query,
        within=tuple(within),
        current=summarize(kept, query.since, query.until),
        before=summarize(kept, start, query.since),
        series=series(kept, query.since, query.until, tz=tz),
        kept_since=kept_since,
    )


# -- words shared by Slack and the terminal -------------------------------------------------


def duration_text(span: timedelta) -> str:
    """42 s, 5 min 12 s, 1 h 3 min, 2 d 4 h."""
    seconds = max(0, round(span.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def period_text(query: Stats) -> str:
    """How long the period is: '6 h', '24 h' (a day reads in hours), '7 d', '1 h 30 min'."""
    span = query.until - query.since
    if span <= timedelta(days=1) and span % HOUR == timedelta(0):
        return f"{span // HOUR} h"
    return duration_text(span)


def percent_text(share: float | None) -> str:
    """0.0451 → '4.5%'; None → 'n/a'."""
    if share is None:
        return "n/a"
    return f"{share * 100:.1f}%" if share < 0.1 else f"{share * 100:.0f}%"


def count_change(now: int, before: int, span: str) -> str:
    """'+12% on the 24 h before', '-30% …', 'same as the 24 h before', 'none the 24 h before'."""
    if now == before:
        return f"same as the {span} before"
    if before == 0:
        return f"none the {span} before"
    change = (now - before) / before * 100
    return f"{change:+.0f}% on the {span} before"


def rate_change(now: float | None, before: float | None) -> str | None:
    """The failure rate's change in percentage points ('+1.2 pts'); None when either is unknown."""
    if now is None or before is None:
        return None
    points = (now - before) * 100
    if abs(points) < 0.05:
        return "same"
    return f"+{points:.1f} pts" if points > 0 else f"-{-points:.1f} pts"


# -- the query a "Share to channel" button carries ------------------------------------------

_PREFIX = "s1"


def encode_stats(query: Stats) -> str:
    """A compact form for a button value: `s1;f=<since>;u=<until>;d=<domain>;t=<type>`."""
    parts = [_PREFIX, f"f={format_api_time(query.since)}", f"u={format_api_time(query.until)}"]
    if query.domain:
        parts.append(f"d={query.domain}")
    if query.object_type is not None:
        parts.append(f"t={query.object_type.value}")
    return ";".join(parts)


def _damaged(value: str) -> InvalidQuery:
    return InvalidQuery(
        "button", value[:40], "this button's query is damaged; run the command again"
    )


def decode_stats(value: str, *, kept_days: int) -> Stats:
    """The query a button carries, checked as strictly as typed input: its period no longer
    than the history keeps, its domain and type valid."""
    parts = value.split(";")
    if parts[0] != _PREFIX:
        raise InvalidQuery(
            "button", value[:40], "this button is from another version; run the command again"
        )
    fields: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, item = part.partition("=")
        if not sep or key not in ("f", "u", "d", "t") or not item or key in fields:
            raise _damaged(value)
        fields[key] = item
    try:
        since, until = parse_api_time(fields["f"]), parse_api_time(fields["u"])
    except (KeyError, ValueError):
        raise _damaged(value) from None
    if not since < until or until - since > timedelta(days=kept_days):
        raise _damaged(value)
    domain = filters.domain_name(fields["d"]) if "d" in fields else None
    kind: ObjectType | None = filters.object_type(fields["t"]) if "t" in fields else None
    return Stats(since=since, until=until, domain=domain, object_type=kind)
