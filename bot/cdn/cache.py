"""A short-lived cache in front of read calls, with identical concurrent reads coalesced.

cachetools holds finished values only; requests still in flight live in a SingleFlight, so a
hundred identical reads make one upstream call. A `fresh` read skips the stored value but still
shares an in-flight call (which is live by definition). Reads are keyed by `Read`, which also
says how the answer is written as JSON for the cache replicas share (bot.cdn.shared.cache).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, cast

from cachetools import TTLCache

from bot.cdn.client import CdnClient
from bot.cdn.limiter import Priority
from bot.cdn.shared.values import DOMAINS, PAGE, QUOTA, JsonForm
from bot.core.tasks import RefreshQuota, TaskListRequest, TaskPage

T = TypeVar("T")


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A value and how old it is: `age` is 0 for a value fetched by this very call."""

    value: T
    age: float
    from_cache: bool


@dataclass(frozen=True)
class Read(Generic[T]):
    """One read call as a cache keys it: the action and its parameters (equal reads get equal
    answers), and the JSON form its answer is shared in."""

    action: str
    params: tuple[tuple[str, str], ...]
    form: JsonForm[T] = field(compare=False, repr=False)


class ReadCache(Protocol):
    """A cache in front of read calls: this process's own, or the one replicas share."""

    async def get(
        self, key: Read[T], fetch: Callable[[], Awaitable[T]], *, fresh: bool = False
    ) -> Cached[T]: ...


@dataclass
class _InFlight:
    task: asyncio.Future[object]
    waiters: int = 0


class SingleFlight:
    """Identical concurrent calls share one run, which goes on as long as somebody waits for it:
    when the last waiter gives up (a deadline, a cancelled command), the run is cancelled too,
    so it stops holding its place in the rate limiter's queue."""

    def __init__(self) -> None:
        self._running: dict[Hashable, _InFlight] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`'s result, or that of the run of `key` already going."""
        flight = self._running.get(key)
        if flight is None:
            flight = self._running[key] = _InFlight(asyncio.ensure_future(call()))
            flight.task.add_done_callback(lambda done: self._landed(key, flight, done))
        flight.waiters += 1
        try:
            # shield: one caller giving up must not cancel the call the others are waiting for.
            return cast(T, await asyncio.shield(flight.task))
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._landed(key, flight, flight.task)  # a newcomer starts a run of its own
                flight.task.cancel()

    def _landed(self, key: Hashable, flight: _InFlight, done: asyncio.Future[object]) -> None:
        if self._running.get(key) is flight:
            del self._running[key]
        if done.done() and not done.cancelled():
            done.exception()  # every waiter may have gone: retrieve it so none is left unread


class ResponseCache:
    """TTL cache keyed by request, bounded in size, with in-flight coalescing (SingleFlight)."""

    def __init__(
        self, *, ttl: float, maxsize: int = 1024, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._timer = timer
        self._ttl = ttl
        self._values: TTLCache[Hashable, tuple[object, float]] = TTLCache(
            maxsize=maxsize, ttl=max(ttl, 1e-9), timer=timer
        )
        self._flights = SingleFlight()

    async def get(
        self, key: Hashable, fetch: Callable[[], Awaitable[T]], *, fresh: bool = False
    ) -> Cached[T]:
        """The cached value for `key`, else `fetch()`'s result, shared with concurrent callers."""
        if not fresh and self._ttl > 0:
            stored = self._values.get(key)
            if stored is not None:
                value, fetched_at = stored
                return Cached(cast(T, value), self._timer() - fetched_at, from_cache=True)
        fetched = await self._flights.run(key, lambda: self._fetch_and_store(key, fetch))
        return Cached(fetched, 0.0, from_cache=False)

    async def _fetch_and_store(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        value = await fetch()
        if self._ttl > 0:
            self._values[key] = (value, self._timer())
        return value


class CachedReads:
    """The client's read actions behind one cache: what the rest of the bot calls."""

    def __init__(self, client: CdnClient, cache: ReadCache) -> None:
        self._client = client
        self._cache = cache

    async def describe_refresh_tasks(
        self,
        request: TaskListRequest,
        *,
        fresh: bool = False,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
    ) -> Cached[TaskPage]:
        """DescribeRefreshTasks through the cache; `caller` is who waits (for fair turns)."""
        params = tuple(sorted(request.api_params().items()))
        return await self._cache.get(
            Read("DescribeRefreshTasks", params, PAGE),
            lambda: self._client.describe_refresh_tasks(request, priority=priority, caller=caller),
            fresh=fresh,
        )

    async def describe_refresh_task_by_id(
        self,
        task_ids: tuple[str, ...],
        *,
        fresh: bool = False,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
    ) -> Cached[TaskPage]:
        """DescribeRefreshTaskById through the cache."""
        return await self._cache.get(
            Read("DescribeRefreshTaskById", (("TaskId", ",".join(task_ids)),), PAGE),
            lambda: self._client.describe_refresh_task_by_id(
                task_ids, priority=priority, caller=caller
            ),
            fresh=fresh,
        )

    async def describe_user_domains(self, suffix: str, *, caller: str = "") -> tuple[str, ...]:
        """DescribeUserDomains through the cache (domains come and go rarely)."""
        found = await self._cache.get(
            Read("DescribeUserDomains", (("DomainName", suffix),), DOMAINS),
            lambda: self._client.describe_user_domains(suffix, caller=caller),
        )
        return found.value

    async def describe_refresh_quota(self, *, fresh: bool = False) -> Cached[RefreshQuota]:
        """DescribeRefreshQuota through the cache."""
        return await self._cache.get(
            Read("DescribeRefreshQuota", (), QUOTA),
            self._client.describe_refresh_quota,
            fresh=fresh,
        )
