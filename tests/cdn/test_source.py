"""The task source against the emulator over HTTP: fan-out paging equals slicing one sorted
list, answers say how old they are, lookups by ID, failure scans, and how it is opened."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.emulator.ledger import Ledger, LedgerTask
from bot.cdn.source import TaskSource, account_limiter, open_task_source
from bot.config import Settings
from bot.core.plan import DEFAULT_FAN_OUT
from bot.core.query import TaskQuery, parse_query
from bot.core.tasks import Status
from tests.conftest import KEY_ID, KEY_SECRET, make_client, make_source
from tests.servers.ports import free_port

DOMAINS = ("a.example.com", "b.example.com")
KINDS = ("file", "directory", "preload", "regex")

task_specs = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 3 * 24 * 3600 - 600),  # seconds ago, inside the API's history
        st.sampled_from(DOMAINS),
        st.sampled_from(["ok", "fail", "running"]),
    ),
    min_size=20,
    max_size=150,
)


def ledger_of(specs, now):
    ledger = Ledger()
    for kind, seconds_ago, domain, outcome in specs:
        duration = 10_000 if outcome == "running" else 30
        created = now - timedelta(seconds=seconds_ago) if outcome != "running" else now
        failure = "Origin Timeout" if outcome == "fail" else None
        path = f"https://{domain}/{kind}/{seconds_ago}"
        ledger.add(LedgerTask(ledger.next_id(), path, kind, created, duration, failure))
    return ledger


def expected_ids(ledger, query, now):
    kinds = {kind.value for kind in DEFAULT_FAN_OUT}
    matching = [
        task
        for task in ledger.visible(now)
        if task.object_type in kinds
        and (query.domain is None or task.object_path.split("/")[2] == query.domain)
        and (query.status is None or task.state(now)[0] == query.status.value)
    ]
    return [task.task_id for task in matching]  # the ledger lists newest first already


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=task_specs,
    size=st.integers(1, 25),
    filters=st.sampled_from(["domain:a.example.com", "status:failed", "b.example.com running"]),
)
def test_fan_out_pages_are_slices_of_the_sorted_whole(
    threaded_emulator, clock, specs, size, filters
):
    now = clock()
    threaded_emulator.ledger = ledger = ledger_of(specs, now)
    query = parse_query(f"{filters} size:{size}", now=now)
    expected = expected_ids(ledger, query, now)
    assume(len(expected) > size)  # more than one page, or paging is not exercised

    async def pages():
        async with make_client(threaded_emulator, clock) as cdn:
            source = make_source(cdn, clock)
            last = max(1, -(-len(expected) // size)) + 1
            return [await source.find(query.at_page(number)) for number in range(1, last + 1)]

    for number, answer in enumerate(asyncio.run(pages()), start=1):
        assert answer.page.total_count == len(expected)
        wanted = expected[(number - 1) * size : number * size]
        assert [task.task_id for task in answer.page.tasks] == wanted


async def test_answer_reports_cache_age(emulator, clock):
    timer = [100.0]
    async with make_client(emulator, clock) as cdn:
        reads = CachedReads(cdn, ResponseCache(ttl=30, timer=lambda: timer[0]))
        source = TaskSource(reads, clock=clock)
        query = TaskQuery(status=Status.FAILED)
        first = await source.find(query)
        assert first.live and len(first.plan.calls) == 3
        timer[0] += 12
        cached = await source.find(query)
        assert cached.age == 12 and not cached.live
        fresh = await source.find(query, fresh=True)
        assert fresh.live
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 6


async def test_lookup_by_ids_through_the_emulator(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        made = await cdn.refresh_object_caches([f"https://c.example.com/{n}" for n in range(12)])
        ids = ",".join(made.task_ids)
        answer = await make_source(cdn, clock).find(parse_query(f"task {ids} size:5", now=clock()))
    assert answer.page.total_count == 12
    assert [t.task_id for t in answer.page.tasks] == list(reversed(made.task_ids))[:5]
    assert len(emulator.calls_of("DescribeRefreshTaskById")) == 2


async def test_plans_are_made_at_the_clocks_now(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        source = make_source(cdn, clock)
        clock.advance(hours=-1)  # the source's clock, not the machine's, says what "since" means
        answer = await source.find(parse_query("type:file since:30m", now=clock()))
    (call,) = answer.plan.calls
    assert call.end_time == clock()


async def test_failed_reads_every_page_of_every_type_once(emulator, clock):
    emulator.ledger.fail_pattern = re.compile("/broken/")
    start = clock() - timedelta(seconds=1)
    paths = [f"https://a.example.com/broken/{n}.js" for n in range(130)]
    emulator.ledger.create(paths, "file", clock())
    emulator.ledger.create(["https://a.example.com/broken/"], "directory", clock())
    emulator.ledger.create(["https://a.example.com/fine.js"], "file", clock())
    clock.advance(seconds=61)
    async with make_client(emulator, clock) as cdn:
        failed = await make_source(cdn, clock).failed(start, clock())
    assert len(failed) == 131 and {task.status for task in failed} == {Status.FAILED}
    assert len({task.task_id for task in failed}) == 131
    # Two pages of files, one page for each of the other four watched types.
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 6


async def test_opened_from_settings_it_uses_the_account_and_the_clock(emulator, clock):
    configured = Settings(
        cdn_endpoint=emulator.url,
        alibaba_cloud_access_key_id=KEY_ID,
        alibaba_cloud_access_key_secret=KEY_SECRET,
        cdn_fanout_types="file,preload",
    )
    async with open_task_source(configured, clock=clock) as source:
        answer = await source.find(TaskQuery(status=Status.FAILED))
        assert source.clock is clock and not source.emulated
        assert source.status() == {"redis": "off"}  # without REDIS_URL, nothing is shared
    assert len(answer.plan.calls) == 2  # CDN_FANOUT_TYPES decides the merge's streams
    assert emulator.calls_of("DescribeRefreshTasks")


async def test_with_redis_replicas_share_the_answers_and_say_how_redis_is(
    emulator, clock, redis_url
):
    configured = Settings(
        cdn_endpoint=emulator.url,
        alibaba_cloud_access_key_id=KEY_ID,
        alibaba_cloud_access_key_secret=KEY_SECRET,
        redis_url=redis_url,
        redis_key_prefix="replicas",
        cache_ttl=30,
    )
    query = TaskQuery(status=Status.FAILED)
    async with (
        open_task_source(configured, clock=clock) as first,
        open_task_source(configured, clock=clock) as second,
    ):
        asked = await first.find(query)
        calls = len(emulator.calls_of("DescribeRefreshTasks"))
        again = await second.find(query)
        assert first.status() == second.status() == {"redis": "ok"}
    assert len(emulator.calls_of("DescribeRefreshTasks")) == calls  # the second one's were hits
    assert asked.live and not again.live and again.page == asked.page
    async with Redis.from_url(redis_url) as redis:
        assert await redis.keys("replicas:c:*") and await redis.keys("replicas:rl:*")


async def test_with_redis_unreachable_it_answers_on_its_own(emulator, clock):
    configured = Settings(
        cdn_endpoint=emulator.url,
        alibaba_cloud_access_key_id=KEY_ID,
        alibaba_cloud_access_key_secret=KEY_SECRET,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
    )
    async with open_task_source(configured, clock=clock) as source:
        answer = await source.find(TaskQuery())
        assert source.status()["redis"] == "unreachable"
    assert answer.live


async def test_without_credentials_it_opens_the_embedded_emulator(tmp_path, clock):
    configured = Settings(alibaba_cloud_config_file=tmp_path / "none.json")
    async with open_task_source(configured, clock=clock) as source:
        answer = await source.find(TaskQuery())
    assert source.emulated and answer.page.total_count > 0


def test_the_listing_rate_leaves_the_other_actions_at_their_documented_rates():
    limiter = account_limiter(5)
    assert limiter.rate("DescribeRefreshTasks") == 5
    assert limiter.rate("DescribeRefreshTaskById") == 30
    assert limiter.rate("RefreshObjectCaches") == limiter.rate("PushObjectCache") == 50
