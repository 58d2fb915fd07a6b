"""One rate limit per cloud account, shared by every caller in this process, fair between people.

Each API action has its own bucket. Calls are spaced evenly at the action's rate (no bursts), so
the API's own per-second window never sees more than the rate. A throttling answer halves the rate;
it then recovers linearly back to the configured rate.

Whose turn it is: the person with the fewest calls waiting goes next (of equals, whoever was
served longest ago), so one person's heavy queries cannot hold up another's one-call query, and
when many people wait, the lighter work finishes first instead of everyone finishing late
together. The background watcher gets every slot nobody is waiting for, and a reserved share
of the slots while people are waiting, so notifications keep flowing. Only the waiter whose
turn it is gets woken. That ordering (`WaitingLine`) is also the Redis-backed limiter's, in
front of the schedule it shares with other replicas (bot.cdn.shared.limiter).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Protocol

# Per-account limits from the API documents (DescribeRefreshTasks: the seed's 10/s).
DOCUMENTED_RATES: Mapping[str, float] = {
    "DescribeRefreshTasks": 10.0,
    "DescribeRefreshTaskById": 30.0,
    "RefreshObjectCaches": 50.0,
    "PushObjectCache": 50.0,
    "DescribeRefreshQuota": 20.0,
    "DescribeUserDomains": 100.0,
}


# Calls leave evenly spaced but arrive with network jitter; 2 % more room keeps a late call and
# an early one from landing in the same second of the API's count.
JITTER_MARGIN = 1.02
# While people are waiting, the watcher still gets this share of the slots it asks for.
BACKGROUND_SHARE = 0.2


class Priority(IntEnum):
    """Who is waiting: a person in Slack goes before the background watcher."""

    INTERACTIVE = 0
    BACKGROUND = 1


class WaitingLine:
    """Who waits for one action's next call, and whose turn it is: the person with the fewest
    calls waiting (of equals, whoever was served longest ago), the background by its share.

    Both limiters order their waiters with it; what a turn is worth (a local slot or one booked
    in Redis) is theirs to decide.
    """

    def __init__(self) -> None:
        # One queue per person; the person served last moves to the end (last among equals).
        self.people: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()
        self.background: deque[asyncio.Future[None]] = deque()
        self.background_credit = 0.0

    def join(self, priority: Priority, caller: str) -> asyncio.Future[None]:
        """A place in the line, resolved when the holder's turn is granted."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if priority is Priority.BACKGROUND:
            self.background.append(waiter)
        else:
            self.people.setdefault(caller, deque()).append(waiter)
        return waiter

    def _prune(self) -> None:
        """Forget waiters who gave up (a deadline, a cancelled command)."""
        self.background = deque(waiter for waiter in self.background if not waiter.done())
        for caller, waiting in list(self.people.items()):
            live = deque(waiter for waiter in waiting if not waiter.done())
            if live:
                self.people[caller] = live  # keeps the person's place in the order
            else:
                del self.people[caller]

    def waiting(self) -> bool:
        """Whether anybody still waits."""
        self._prune()
        return bool(self.people or self.background)

    def people_waiting(self) -> bool:
        """Whether a person (not only the background) still waits."""
        self._prune()
        return bool(self.people)

    def take(self) -> asyncio.Future[None]:
        """The waiter whose turn it is (call only when `waiting()`)."""
        people, background = bool(self.people), bool(self.background)
        if background and (not people or self.background_credit >= 1):
            self.background_credit = max(0.0, self.background_credit - 1)
            return self.background.popleft()
        if background:
            self.background_credit += BACKGROUND_SHARE / (1 - BACKGROUND_SHARE)
        caller, waiting = min(self.people.items(), key=lambda item: len(item[1]))
        waiter = waiting.popleft()
        if waiting:
            self.people.move_to_end(caller)
        else:
            del self.people[caller]
        return waiter

    def fail_all(self, error: BaseException) -> None:
        """Raise `error` in every waiter (their limiter cannot grant turns any more)."""
        for waiter in [*self.background, *(w for waiting in self.people.values() for w in waiting)]:
            if not waiter.done():
                waiter.set_exception(error)
        self.people.clear()
        self.background.clear()


class Limiter(Protocol):
    """What the client needs of a rate limiter: a turn per call, and word of throttling."""

    async def acquire(
        self, action: str, priority: Priority = Priority.INTERACTIVE, *, caller: str = ""
    ) -> None: ...

    async def throttled(self, action: str, *, retry_after: float | None = None) -> None: ...


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.factor = 1.0
        self.factor_at = 0.0
        self.next_free = 0.0
        self.line = WaitingLine()
        self.timer: asyncio.TimerHandle | None = None


class RateLimiter:
    """Async call spacing per action, fair between callers, with slow-down on throttling."""

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

    async def acquire(
        self, action: str, priority: Priority = Priority.INTERACTIVE, *, caller: str = ""
    ) -> None:
        """Wait until `action` may be called once. People (`caller`) take turns; the
        background gets the slots nobody waits for, and a reserved share of the rest."""
        bucket = self._bucket(action)
        waiter = bucket.line.join(priority, caller)
        self._dispatch(bucket)
        await waiter  # a cancelled waiter is skipped when its turn comes

    def _dispatch(self, bucket: _Bucket) -> None:
        """Grant every slot that is due, then sleep until the next one (one timer per bucket)."""
        while bucket.line.waiting():
            now = self._clock()
            delay = bucket.next_free - now
            if delay > 0:
                if bucket.timer is None:
                    bucket.timer = asyncio.get_running_loop().call_later(
                        delay, self._on_timer, bucket
                    )
                return
            bucket.line.take().set_result(None)
            interval = JITTER_MARGIN / (bucket.rate * self._factor(bucket, now))
            bucket.next_free = max(now, bucket.next_free) + interval

    def _on_timer(self, bucket: _Bucket) -> None:
        bucket.timer = None
        self._dispatch(bucket)

    async def throttled(
        self,
        action: str,
        *,
        retry_after: float | None = None,  # noqa: ARG002 - the caller pauses its own retry
    ) -> None:
        """The API said we are too fast for `action`: slow down, then recover gradually."""
        bucket = self._bucket(action)
        now = self._clock()
        bucket.factor = max(self._floor, self._factor(bucket, now) * self._slowdown)
        bucket.factor_at = now
