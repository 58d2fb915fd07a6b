"""The shared rate limit: measured at the emulator, priorities, slow-down and recovery."""

from __future__ import annotations

import asyncio

import pytest

from bot.cdn.emulator import Emulator
from bot.cdn.limiter import Priority, RateLimiter
from bot.core.tasks import TaskListRequest
from tests.conftest import emulator_config, make_client


def busiest_second(times: list[float]) -> int:
    """The most arrivals inside any half-open window of one second."""
    times = sorted(times)
    best = 0
    for index, start in enumerate(times):
        best = max(best, sum(1 for moment in times[index:] if moment < start + 1.0))
    return best


@pytest.mark.timeout(30)
def test_upstream_never_sees_more_than_the_rate(clock):
    # The emulator runs in its own thread with its own 10/s limit, so it measures independently.
    with Emulator(emulator_config(clock, qps=10)).running() as emulator:

        async def burst():
            limiter = RateLimiter(rates={"DescribeRefreshTasks": 10})
            async with make_client(emulator, clock, limiter=limiter) as cdn:
                await cdn.describe_refresh_quota()  # a warm connection: arrivals reflect sends
                requests = [TaskListRequest(page_number=n) for n in range(1, 26)]
                await asyncio.gather(*(cdn.describe_refresh_tasks(r) for r in requests))

        asyncio.run(burst())
        calls = emulator.calls_of("DescribeRefreshTasks")
    assert len(calls) == 25
    assert all(call.code == "" for call in calls), "the emulator throttled us"
    assert busiest_second([call.at for call in calls]) <= 10


async def test_background_waits_while_interactive_is_queued():
    limiter = RateLimiter(rates={"A": 20})
    await limiter.acquire("A")  # the next slot is 50 ms away
    order: list[str] = []

    async def caller(name: str, priority: Priority) -> None:
        await limiter.acquire("A", priority)
        order.append(name)

    background = [asyncio.create_task(caller(f"b{n}", Priority.BACKGROUND)) for n in range(3)]
    await asyncio.sleep(0)
    interactive = [asyncio.create_task(caller(f"i{n}", Priority.INTERACTIVE)) for n in range(3)]
    await asyncio.gather(*background, *interactive)
    assert order == ["i0", "i1", "i2", "b0", "b1", "b2"]


async def test_cancelled_waiter_leaves_the_queue():
    limiter = RateLimiter(rates={"A": 20})
    await limiter.acquire("A")
    waiting = asyncio.create_task(limiter.acquire("A"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(limiter.acquire("A"), timeout=1)


async def test_throttling_slows_down_then_recovers():
    now = [100.0]
    limiter = RateLimiter(
        rates={"A": 10}, slowdown=0.5, floor=0.1, recovery_per_second=0.1, clock=lambda: now[0]
    )
    assert limiter.rate("A") == 10
    await limiter.throttled("A")
    assert limiter.rate("A") == pytest.approx(5)
    await limiter.throttled("A")
    assert limiter.rate("A") == pytest.approx(2.5)
    for _ in range(10):
        await limiter.throttled("A")
    assert limiter.rate("A") == pytest.approx(1)  # never below the floor
    now[0] += 2
    assert limiter.rate("A") == pytest.approx(3)  # recovers linearly
    now[0] += 100
    assert limiter.rate("A") == 10  # and no further than the configured rate


def test_unknown_actions_use_the_default_rate():
    limiter = RateLimiter(default_rate=7)
    assert limiter.rate("SomethingNew") == 7
    assert RateLimiter().rate("DescribeRefreshTaskById") == 30


async def granted_in_order(limiter: RateLimiter, callers: list[tuple[str, Priority]]) -> list[str]:
    """Queue every caller at once (in the given order); the order their turns came."""
    order: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await limiter.acquire("A", priority, caller=name.rstrip("0123456789"))
        order.append(name)

    await asyncio.gather(*(call(name, priority) for name, priority in callers))
    return order


async def test_a_light_caller_goes_before_a_heavy_one_whoever_queued_first():
    limiter = RateLimiter(rates={"A": 200})
    await limiter.acquire("A")  # the next slot is a moment away: everyone queues
    heavy = [(f"alice{n}", Priority.INTERACTIVE) for n in range(20)]
    order = await granted_in_order(limiter, [*heavy, ("bob0", Priority.INTERACTIVE)])
    assert order.index("bob0") == 0  # not after all twenty of alice's
    assert [name for name in order if name.startswith("alice")] == [name for name, _ in heavy]


async def test_of_equals_the_first_to_come_finishes_first():
    limiter = RateLimiter(rates={"A": 200})
    await limiter.acquire("A")
    callers = [(f"{who}{n}", Priority.INTERACTIVE) for who in ("ann", "ben") for n in range(2)]
    order = await granted_in_order(limiter, callers)
    assert order == ["ann0", "ann1", "ben0", "ben1"]  # not interleaved: ann is done sooner


async def test_a_waiter_who_gave_up_is_skipped_not_granted():
    limiter = RateLimiter(rates={"A": 200})
    await limiter.acquire("A")
    gone = asyncio.create_task(limiter.acquire("A", caller="ann"))
    kept = asyncio.create_task(limiter.acquire("A", caller="ann"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(kept, timeout=5)
    assert gone.cancelled()


async def test_the_watcher_keeps_a_share_while_people_wait():
    limiter = RateLimiter(rates={"A": 200})
    await limiter.acquire("A")
    people = [(f"alice{n}", Priority.INTERACTIVE) for n in range(20)]
    watcher = [(f"watch{n}", Priority.BACKGROUND) for n in range(3)]
    order = await granted_in_order(limiter, [*people, *watcher])
    served = [order.index(f"watch{n}") for n in range(3)]
    # Every fifth slot while both wait: the watcher does not queue behind all twenty.
    assert served == [4, 9, 14]
