"""The cache replicas share in Redis, against the emulator over HTTP: one upstream call for the
same query asked of several replicas, fresh reads that coalesce yet never take the old answer,
a given-up call that frees its key, JSON under hashed keys, and the fallback without Redis."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.cdn.cache import CachedReads, Read, ResponseCache
from bot.cdn.emulator import Emulator
from bot.cdn.emulator.chaos import FaultPlan
from bot.cdn.shared.cache import SharedCache
from bot.cdn.shared.keys import KeySpace, account_tag
from bot.cdn.shared.values import DOMAINS
from bot.core.tasks import TaskListRequest
from tests.conftest import KEY_ID, emulator_config, make_client

KEYS = KeySpace.of("test", KEY_ID, "http://emulator")


def shared(link, *, ttl: float = 30) -> SharedCache:
    return SharedCache(link, KEYS, ttl=ttl, fallback=ResponseCache(ttl=ttl))


@pytest.fixture
async def slow_emulator(clock):
    """The emulator taking 150 ms per answer, so concurrent reads really overlap."""
    server = Emulator(emulator_config(clock, faults=FaultPlan(latency_ms=150)))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def replicas(links, slow_emulator, clock):
    """Three replicas' reads, each with its own client and cache, all on one Redis."""
    clients = [make_client(slow_emulator, clock) for _ in links]
    yield [CachedReads(cdn, shared(link)) for cdn, link in zip(clients, links, strict=True)]
    for cdn in clients:
        await cdn.aclose()


def listing_calls(emulator) -> int:
    return len(emulator.calls_of("DescribeRefreshTasks"))


async def test_a_second_replica_gets_the_first_ones_answer(replicas, slow_emulator):
    request = TaskListRequest(page_size=5)
    first = await replicas[0].describe_refresh_tasks(request)
    second = await replicas[1].describe_refresh_tasks(request)
    assert (first.from_cache, first.age) == (False, 0.0)
    assert second.from_cache and 0 < second.age < 1  # how old it is, by Redis's clock
    assert second.value == first.value
    assert listing_calls(slow_emulator) == 1


async def test_twenty_identical_reads_across_replicas_make_one_call(replicas, slow_emulator):
    request = TaskListRequest(page_size=5)
    answers = await asyncio.gather(
        *(replicas[n % 3].describe_refresh_tasks(request) for n in range(20))
    )
    assert listing_calls(slow_emulator) == 1
    assert all(answer.value == answers[0].value for answer in answers)


async def test_a_refresh_on_one_replica_leaves_no_stale_page_on_the_others(
    replicas, slow_emulator, clock
):
    request = TaskListRequest()
    before = await replicas[0].describe_refresh_tasks(request)
    slow_emulator.ledger.create(["https://a.example.com/new.js"], "file", clock())
    refreshed = await replicas[1].describe_refresh_tasks(request, fresh=True)
    again = await replicas[0].describe_refresh_tasks(request)
    assert refreshed.value.total_count == before.value.total_count + 1
    assert again.from_cache and again.value == refreshed.value
    assert listing_calls(slow_emulator) == 2


async def test_fresh_reads_coalesce_but_never_take_the_answer_stored_before(
    replicas, slow_emulator, clock
):
    request = TaskListRequest()
    old = await replicas[0].describe_refresh_tasks(request)
    slow_emulator.ledger.create(["https://a.example.com/new.js"], "file", clock())
    answers = await asyncio.gather(
        *(replicas[n % 3].describe_refresh_tasks(request, fresh=True) for n in range(9))
    )
    # The other replicas waited for the one call in flight, skipping the old stored answer.
    assert listing_calls(slow_emulator) == 2
    assert {answer.value.total_count for answer in answers} == {old.value.total_count + 1}
    assert all(answer.age == 0 for answer in answers)


async def claims(client) -> int:
    """How many SETs (flight claims, here) Redis has run since its statistics were reset."""
    return int((await client.info("commandstats")).get("cmdstat_set", {}).get("calls", 0))


async def test_a_given_up_call_frees_its_key_and_another_replica_takes_over(links):
    first, second = shared(links[0]), shared(links[1])
    read = Read("DescribeUserDomains", (("DomainName", "example.com"),), DOMAINS)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def never_answers() -> tuple[str, ...]:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        return ()

    async def answers() -> tuple[str, ...]:
        return ("a.example.com",)

    observer = links[2].client
    await observer.config_resetstat()
    winner = asyncio.create_task(first.get(read, never_answers))
    await started.wait()
    waiting = asyncio.create_task(second.get(read, answers))
    while await claims(observer) < 2:  # the second replica lost its claim: it polls
        await asyncio.sleep(0.01)
    winner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await winner
    # Freed at once: the other replica claims the key and fetches, well before the claim of the
    # call given up would have expired (FLIGHT_TTL, 10 s).
    assert (await asyncio.wait_for(waiting, timeout=5)).value == ("a.example.com",)
    assert stopped.is_set()  # the upstream call itself was cancelled
    assert not await observer.exists(KEYS.flight(read))


async def test_answers_are_json_under_hashed_keys(replicas, links, slow_emulator, clock):
    paths = [f"https://a.example.com/{n}.js" for n in range(5)]
    slow_emulator.ledger.create(paths, "file", clock())
    await replicas[0].describe_refresh_tasks(TaskListRequest(page_size=3))
    names = await links[0].client.keys("*")
    tag = account_tag(KEY_ID)
    assert len(tag) == 12 and all(KEY_ID not in name for name in names)
    (answer,) = [name for name in names if ":c:" in name]
    assert re.fullmatch(rf"test:c:{tag}:DescribeRefreshTasks:[0-9a-f]{{64}}", answer)
    stored = json.loads(await links[0].client.get(answer))
    assert len(stored["v"]["tasks"]) == 3


async def test_without_a_ttl_nothing_is_a_hit_but_reads_still_coalesce(links):
    first, second = shared(links[0], ttl=0), shared(links[1], ttl=0)
    read = Read("DescribeUserDomains", (("DomainName", "example.com"),), DOMAINS)
    calls: list[int] = []

    async def fetch() -> tuple[str, ...]:
        calls.append(1)
        await asyncio.sleep(0.1)
        return (f"v{len(calls)}.example.com",)

    together = await asyncio.gather(first.get(read, fetch), second.get(read, fetch))
    assert len(calls) == 1 and together[0].value == together[1].value
    assert (await second.get(read, fetch)).value == ("v2.example.com",)


async def test_without_redis_reads_use_the_in_process_cache(nowhere):
    cache = shared(nowhere)
    read = Read("DescribeUserDomains", (("DomainName", "example.com"),), DOMAINS)
    calls: list[int] = []

    async def fetch() -> tuple[str, ...]:
        calls.append(1)
        return ("a.example.com",)

    first = await cache.get(read, fetch)
    second = await cache.get(read, fetch)
    assert first.value == second.value == ("a.example.com",)
    assert second.from_cache and len(calls) == 1
    assert nowhere.status()["redis"] == "unreachable"
