"""One rate limit per cloud account, shared by every caller, interactive users served first.

Each API action has its own bucket. Calls are spaced evenly at the action's rate (no bursts), so
the API's own per-second window never sees more than the rate. A throttling answer halves the rate;
it then recovers linearly back to the configured rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from enum import IntEnum

# Per-account limits from the API documents (DescribeRefreshTasks: the seed's 10/s).
DOCUMENTED_RATES: Mapping[str, float] = {
    "DescribeRefreshTasks": 10.0,
    "DescribeRefreshTaskById": 30.0,
    "RefreshObjectCaches": 50.0,
    "PushObjectCache": 50.0,
    "DescribeRefreshQuota": 20.0,
}


# Calls leave evenly spaced but arrive with network jitter; 2 % more room keeps a late call and
# an early one from landing in the same second of the API's count.
JITTER_MARGIN = 1.02


class Priority(IntEnum):
    """Who is waiting: a person in Slack goes before the background watcher."""

    INTERACTIVE = 0
    BACKGROUND = 1


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.factor = 1.0
        self.factor_at = 0.0
        self.next_free = 0.0
        self.queue: list[tuple[int, int]] = []
        self.changed = asyncio.Event()

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class RateLimiter:
    """Async token spacing per action, with priorities and slow-down on throttling."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        default_rate: float = 10.0,
        slowdown: float = 0.5,
        floor: float = 0.1,
        recovery_per_second: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = dict(DOCUMENTED_RATES if rates is None else rates)
        self._default_rate = default_rate
        self._slowdown = slowdown
        self._floor = floor
        self._recovery = recovery_per_second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._tickets = itertools.count()

    def _bucket(self, action: str) -> _Bucket:
        bucket = self._buckets.get(action)
        if bucket is None:
            bucket = _Bucket(self._rates.get(action, self._default_rate))
            self._buckets[action] = bucket
        return bucket

    def _factor(self, bucket: _Bucket, now: float) -> float:
        recovered = bucket.factor + (now - bucket.factor_at) * self._recovery
        return min(1.0, recovered)

    def rate(self, action: str) -> float:
        """The calls per second `action` is allowed right now (lower after throttling)."""
        bucket = self._bucket(action)
        return bucket.rate * self._factor(bucket, self._clock())

    async def acquire(self, action: str, priority: Priority = Priority.INTERACTIVE) -> None:
        """Wait until `action` may be called once; callers of higher priority go first."""
        bucket = self._bucket(action)
        ticket = (int(priority), next(self._tickets))
        heapq.heappush(bucket.queue, ticket)
        try:
            while True:
                delay: float | None = None
                if bucket.queue[0] == ticket:
                    now = self._clock()
                    delay = bucket.next_free - now
                    if delay <= 0:
                        heapq.heappop(bucket.queue)
                        rate = bucket.rate * self._factor(bucket, now)
                        interval = JITTER_MARGIN / rate
                        bucket.next_free = max(now, bucket.next_free) + interval
                        bucket.wake()
                        return
                changed = bucket.changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), delay)
        except BaseException:
            if ticket in bucket.queue:
                bucket.queue.remove(ticket)
                heapq.heapify(bucket.queue)
                bucket.wake()
            raise

    def throttled(self, action: str) -> None:
        """The API said we are too fast for `action`: slow down, then recover gradually."""
        bucket = self._bucket(action)
        now = self._clock()
        bucket.factor = max(self._floor, self._factor(bucket, now) * self._slowdown)
        bucket.factor_at = now
