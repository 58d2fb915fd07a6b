"""The limiter replicas share through Redis: one budget measured at the emulator, people before
the watcher across replicas (who still gets a share), fair turns inside a replica, and a
throttle that slows every replica."""

from __future__ import annotations

import asyncio
import time

from bot.cdn.emulator import Emulator
from bot.cdn.emulator.faults import ApiFault
from bot.cdn.limiter import Priority
from bot.cdn.shared.keys import KeySpace
from bot.cdn.shared.limiter import SharedLimiter
from bot.core.tasks import TaskListRequest
from tests.cdn.test_limiter import busiest_second
from tests.conftest import KEY_ID, emulator_config, make_client, wait_until

KEYS = KeySpace.of("test", KEY_ID)


def replica(link, limits, **options) -> SharedLimiter:
    return SharedLimiter(link, KEYS, limits, replicas=3, **options)


async def test_three_replicas_together_keep_to_the_limit_at_the_api(links, clock):
    # The emulator runs in its own thread with its own 20/s limit, so it measures independently.
    with Emulator(emulator_config(clock, qps=20)).running() as emulator:
        limits = {"DescribeRefreshTasks": 20}
        clients = [make_client(emulator, clock, limiter=replica(link, limits)) for link in links]
        for cdn in clients:
            await cdn.describe_refresh_quota()  # a warm connection: arrivals reflect sends
        requests = [TaskListRequest(page_number=n) for n in range(1, 11)]
        await asyncio.gather(
            *(cdn.describe_refresh_tasks(request) for cdn in clients for request in requests)
        )
        for cdn in clients:
            await cdn.aclose()
        calls = emulator.calls_of("DescribeRefreshTasks")
    assert len(calls) == 30
    assert all(call.code == "" for call in calls), "the emulator throttled us"
    assert busiest_second([call.at for call in calls]) <= 20


async def granted(limiter, name: str, priority: Priority, order: list[str]) -> None:
    await limiter.acquire("A", priority, caller=name.rstrip("0123456789"))
    order.append(name)


async def test_people_on_one_replica_go_before_the_watcher_on_another(links):
    people, watcher = replica(links[0], {"A": 10}), replica(links[1], {"A": 10}, patience=60)
    order: list[str] = []
    queued = [
        asyncio.create_task(granted(people, f"person{n}", Priority.INTERACTIVE, order))
        for n in range(6)
    ]
    await wait_until(lambda: order)  # the people's replica books ahead from now on
    queued.append(asyncio.create_task(granted(watcher, "watch", Priority.BACKGROUND, order)))
    await asyncio.gather(*queued)
    assert order[-1] == "watch"  # it took the first slot nobody had booked


async def test_the_watcher_still_gets_a_share_of_a_saturated_budget(links):
    people, watcher = replica(links[0], {"A": 20}), replica(links[1], {"A": 20}, patience=0.05)
    order: list[str] = []
    queued = [
        asyncio.create_task(granted(people, f"person{n}", Priority.INTERACTIVE, order))
        for n in range(20)
    ]
    await wait_until(lambda: order)
    queued += [
        asyncio.create_task(granted(watcher, f"watch{n}", Priority.BACKGROUND, order))
        for n in range(3)
    ]
    await asyncio.gather(*queued)
    # Each background call waits its patience, then books like a person: all three are served
    # while people still wait, not after all twenty.
    assert max(order.index(f"watch{n}") for n in range(3)) < order.index("person19")


async def test_inside_a_replica_the_light_caller_still_goes_first(links):
    limiter = replica(links[0], {"A": 200})
    await limiter.acquire("A")  # the next slot is a moment away: everyone queues
    order: list[str] = []
    heavy = [granted(limiter, f"alice{n}", Priority.INTERACTIVE, order) for n in range(10)]
    await asyncio.gather(*heavy, granted(limiter, "bob0", Priority.INTERACTIVE, order))
    assert order.index("bob0") == 0
    assert order[1:] == [f"alice{n}" for n in range(10)]


async def test_a_caller_who_gave_up_leaves_the_line(links):
    limiter = replica(links[0], {"A": 10})
    await limiter.acquire("A")
    gone = asyncio.create_task(limiter.acquire("A", caller="ann"))
    kept = asyncio.create_task(limiter.acquire("A", caller="ann"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(kept, timeout=5)
    assert gone.cancelled()


async def schedule_state(link, action: str) -> tuple[int, int]:
    """The stored pace (ppm) and how far ahead the next free slot is (µs of Redis's clock)."""
    seconds, micros = await link.client.time()
    state = await link.client.hgetall(KEYS.schedule(action))
    return int(state["pace"]), int(state["tat"]) - (seconds * 1_000_000 + micros)


async def test_a_throttle_seen_by_one_replica_slows_them_all(links):
    first, second = replica(links[0], {"A": 10}), replica(links[1], {"A": 10})
    await first.acquire("A")
    await first.throttled("A", retry_after=0.5)
    pace, ahead = await schedule_state(links[1], "A")
    assert pace == 500_000  # half the rate, for every replica's bookings
    # Pushed on by the API's retry-after from the slot already booked (125 ms away at 8/s).
    assert 450_000 < ahead <= 625_000
    await second.acquire("A")  # and the second replica waits for it, then goes on


async def test_the_client_reports_throttling_to_the_shared_schedule(links, emulator, clock):
    emulator.script("DescribeRefreshTasks", ApiFault(400, "Throttling.User", "slow"))
    limiter = replica(links[0], {"DescribeRefreshTasks": 100})
    async with make_client(emulator, clock, limiter=limiter) as cdn:
        await cdn.describe_refresh_tasks(TaskListRequest())
    pace, _ = await schedule_state(links[2], "DescribeRefreshTasks")
    assert pace == 500_000
    assert [call.code for call in emulator.calls_of("DescribeRefreshTasks")] == [
        "Throttling.User",
        "",
    ]


async def test_a_slot_missed_while_the_replica_was_held_up_goes_unused(links, monkeypatch):
    limiter = replica(links[0], {"A": 10})
    booked = []
    book = limiter._schedule.book

    async def counting(key, **options):
        booking = await book(key, **options)
        booked.append(booking)
        if len(booked) == 1:
            # The replica's loop stalls right after its first booking, past its slot.
            asyncio.get_running_loop().call_soon(time.sleep, booking.wait + 0.2)
        return booking

    monkeypatch.setattr(limiter._schedule, "book", counting)
    await limiter.acquire("A", caller="ana")
    assert len(booked) == 2  # the first slot went by during the stall; the call took the next
