"""One replica leads the background work: the lease, acting only while sure, and the watcher
and the progress tracker doing nothing on a replica that does not lead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.tasks import ObjectType, Status, Task
from bot.core.watch import PostOutcome, Subscription
from bot.leader import LEASE_NAME, Leadership
from bot.store.database import Store
from bot.watcher import Watcher


class Ticks:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/bot.db"
    opened = await Store.open(url)
    yield opened
    await opened.close()


async def test_one_replica_leads_and_a_standby_takes_over_once_the_lease_expires(store):
    first = Leadership(store, holder="first", lease=0.5)
    second = Leadership(store, holder="second", lease=0.5)
    assert (await first.renew()) is not None
    assert await second.renew() is None
    assert first.leading and not second.leading
    epoch = first.fence.epoch
    # The first stops renewing (it died); the second gets the lease once it has expired.
    async with asyncio.timeout(10):
        while (taken := await second.renew()) is None:
            await asyncio.sleep(0.05)  # the lease expires on the database's clock
    assert taken.epoch == epoch + 1
    assert await first.renew() is None
    assert not first.leading and second.leading


async def test_a_leader_that_cannot_renew_stops_acting_before_its_lease_ends(store):
    ticks = Ticks()
    leader = Leadership(store, holder="paused", lease=15, clock=ticks)
    fence = await leader.renew()
    assert leader.fence == fence
    ticks.now += 9.9  # within two thirds of the lease since the renewal was asked
    assert leader.fence == fence
    ticks.now += 0.2
    assert leader.fence is None and not leader.leading


async def test_a_clean_stop_hands_the_lease_over_at_once(store):
    first = Leadership(store, holder="first", lease=60)
    second = Leadership(store, holder="second", lease=60)
    await first.renew()
    assert await second.renew() is None
    await first.release()
    assert not first.leading
    assert (await second.renew()) is not None
    holder, _, expired = await store.lease_holder(LEASE_NAME)
    assert holder == "second" and not expired


def failed_task(task_id: str, now: datetime) -> Task:
    return Task(
        task_id=task_id,
        object_path=f"https://a.example.com/broken/{task_id}.js",
        object_type=ObjectType.FILE,
        status=Status.FAILED,
        progress=0,
        created=now - timedelta(minutes=1),
        description="InternalError",
    )


async def test_a_watcher_that_lost_the_lease_mid_cycle_neither_posts_nor_records(store):
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    await store.subscribe(Subscription("C1", None, None, "U0ANA1234", now - timedelta(hours=1)))
    ticks = Ticks()
    leader = Leadership(store, holder="slow", lease=15, clock=ticks)
    await leader.renew()
    posted: list[str] = []

    async def fetch(_start, _end):
        ticks.now += 11  # paused past its margin while reading the API
        return [failed_task("T1", now)]

    async def post(channel_id, _tasks, **_):
        posted.append(channel_id)
        return PostOutcome(delivered=True)

    watcher = Watcher(
        store=store, fetch_failures=fetch, post=post, clock=lambda: now, interval=60,
        overlap=timedelta(hours=1), leadership=leader,
    )  # fmt: skip
    report = await watcher.cycle()
    assert report.deposed and posted == []
    assert await store.announced(["C1"]) == {"C1": set()}
    assert await store.high_water() is None


async def test_records_of_a_replaced_leader_are_refused(store):
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    await store.subscribe(Subscription("C1", None, None, "U0ANA1234", now - timedelta(hours=1)))
    old = Leadership(store, holder="old", lease=60)
    new = Leadership(store, holder="new", lease=60)
    await old.renew()

    async def fetch(_start, _end):
        return [failed_task("T1", now)]

    async def post(_channel_id, _tasks, **_):
        # The lease changes hands between Slack's answer and the record.
        await store.release_lease(old.fence)
        await new.renew()
        return PostOutcome(delivered=True)

    watcher = Watcher(
        store=store, fetch_failures=fetch, post=post, clock=lambda: now, interval=60,
        overlap=timedelta(hours=1), leadership=old,
    )  # fmt: skip
    report = await watcher.cycle()
    assert report.deposed
    assert await store.announced(["C1"]) == {"C1": set()}
    assert await store.high_water() is None


def refreshing_task(task_id: str, now: datetime) -> Task:
    return Task(
        task_id=task_id,
        object_path=f"https://a.example.com/slow/{task_id}.js",
        object_type=ObjectType.FILE,
        status=Status.REFRESHING,
        progress=40,
        created=now - timedelta(hours=1),
    )


def stuck_watcher(store, leader, now, *, fetch, post_stuck):
    from bot.stuck import StuckAlerts

    async def post_failures(_channel_id, _tasks, **_):
        return PostOutcome(delivered=True)

    async def post_ended(*_args, **_options):
        return PostOutcome(delivered=True)

    alerts = StuckAlerts(
        after=timedelta(minutes=30), post=post_stuck, post_ended=post_ended, keep=timedelta(30)
    )
    return Watcher(
        store=store, fetch_failures=fetch, post=post_failures, clock=lambda: now, interval=60,
        overlap=timedelta(hours=1), leadership=leader, stuck=alerts,
    )  # fmt: skip


async def test_a_watcher_that_lost_the_lease_mid_cycle_announces_nothing_stuck(store):
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    await store.subscribe(Subscription("C1", None, None, "U0ANA1234", now - timedelta(hours=2)))
    await store.archive([refreshing_task("T1", now)], now)
    ticks = Ticks()
    leader = Leadership(store, holder="slow", lease=15, clock=ticks)
    await leader.renew()
    posted: list[str] = []

    async def fetch(_start, _end):
        ticks.now += 11  # paused past its margin while reading the API
        return []

    async def post_stuck(channel_id, _tasks, **_):
        posted.append(channel_id)
        return PostOutcome(delivered=True, ts="1.1")

    report = await stuck_watcher(store, leader, now, fetch=fetch, post_stuck=post_stuck).cycle()
    assert report.deposed and posted == [] and report.stuck == {}
    assert await store.stuck_notices() == []


async def test_stuck_notices_of_a_replaced_leader_are_refused(store):
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    await store.subscribe(Subscription("C1", None, None, "U0ANA1234", now - timedelta(hours=2)))
    await store.archive([refreshing_task("T1", now)], now)
    old = Leadership(store, holder="old", lease=60)
    new = Leadership(store, holder="new", lease=60)
    await old.renew()

    async def fetch(_start, _end):
        return []

    async def post_stuck(_channel_id, _tasks, **_):
        # The lease changes hands between Slack's answer and the record.
        await store.release_lease(old.fence)
        await new.renew()
        return PostOutcome(delivered=True, ts="1.1")

    report = await stuck_watcher(store, old, now, fetch=fetch, post_stuck=post_stuck).cycle()
    assert report.deposed and report.stuck == {}
    assert await store.stuck_notices() == []
    assert await store.high_water() is None
