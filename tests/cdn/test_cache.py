"""The response cache: coalescing, TTL with an injected timer, fresh reads, failures."""

from __future__ import annotations

import asyncio

import pytest

from bot.cdn.cache import CachedReads, ResponseCache
from bot.core.tasks import TaskListRequest


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_hundred_identical_reads_make_one_upstream_call(emulator, client):
    reads = CachedReads(client, ResponseCache(ttl=30))
    request = TaskListRequest(page_size=5)
    results = await asyncio.gather(*(reads.describe_refresh_tasks(request) for _ in range(100)))
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 1
    assert {id(result.value) for result in results} == {id(results[0].value)}
    again = await reads.describe_refresh_tasks(request)
    assert again.from_cache
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 1


async def test_fresh_read_bypasses_and_is_itself_coalesced(emulator, client):
    reads = CachedReads(client, ResponseCache(ttl=30))
    request = TaskListRequest()
    await reads.describe_refresh_tasks(request)
    fresh = await asyncio.gather(
        *(reads.describe_refresh_tasks(request, fresh=True) for _ in range(20))
    )
    assert not any(result.from_cache for result in fresh)
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 2


async def test_ttl_expiry_and_age_with_injected_timer():
    timer = Timer()
    cache = ResponseCache(ttl=10, timer=timer)
    fetches: list[int] = []

    async def fetch() -> int:
        fetches.append(1)
        return len(fetches)

    first = await cache.get("k", fetch)
    assert (first.value, first.age, first.from_cache) == (1, 0.0, False)
    timer.now += 7
    cached = await cache.get("k", fetch)
    assert (cached.value, cached.age, cached.from_cache) == (1, 7.0, True)
    timer.now += 4
    expired = await cache.get("k", fetch)
    assert (expired.value, expired.from_cache) == (2, False)


async def test_failures_reach_every_waiter_and_are_not_cached():
    cache = ResponseCache(ttl=10)
    release = asyncio.Event()
    calls = []

    async def failing() -> int:
        calls.append(1)
        await release.wait()
        raise RuntimeError("upstream down")

    waiters = [asyncio.create_task(cache.get("k", failing)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert len(calls) == 1

    async def working() -> int:
        return 42

    assert (await cache.get("k", working)).value == 42


async def test_one_cancelled_caller_does_not_cancel_the_others():
    cache = ResponseCache(ttl=10)
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    first = asyncio.create_task(cache.get("k", slow))
    second = asyncio.create_task(cache.get("k", slow))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert (await second).value == "done"


async def test_size_is_bounded():
    cache = ResponseCache(ttl=60, maxsize=3)
    for key in range(10):
        await cache.get(key, lambda key=key: asyncio.sleep(0, result=key))
    assert len(cache._values) == 3


async def test_zero_ttl_still_coalesces_but_never_stores():
    cache = ResponseCache(ttl=0)
    calls = []

    async def fetch() -> int:
        calls.append(1)
        await asyncio.sleep(0)
        return 1

    await asyncio.gather(cache.get("k", fetch), cache.get("k", fetch))
    await cache.get("k", fetch)
    assert len(calls) == 2


async def test_the_upstream_call_stops_when_its_last_waiter_gives_up():
    cache = ResponseCache(ttl=30)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.Event().wait()  # an upstream call that never answers
        finally:
            stopped.set()
        return "never"

    first = asyncio.create_task(cache.get("k", slow))
    second = asyncio.create_task(cache.get("k", slow))
    await started.wait()
    first.cancel()
    await asyncio.sleep(0)
    assert not stopped.is_set()  # the other waiter still wants it
    second.cancel()
    await asyncio.wait_for(stopped.wait(), timeout=5)
    for waiter in (first, second):
        with pytest.raises(asyncio.CancelledError):
            await waiter

    async def quick() -> str:
        return "fresh call"

    assert (await cache.get("k", quick)).value == "fresh call"
