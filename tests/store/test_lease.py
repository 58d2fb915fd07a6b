"""The lease on both engines: taken only once expired, renewed under one epoch, handed back at
once, won by exactly one of racing callers; writes fenced by a stale epoch are refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.store import announced, lease
from bot.store.database import Store
from bot.store.lease import Fence

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LONG = 60.0  # seconds: a lease no test outlives
SHORT = 0.2  # seconds: a lease a test waits out by polling, never by sleeping a fixed time


async def eventually(probe, *, timeout: float = 10) -> None:
    """Re-ask `probe` (a coroutine function) until it answers true."""
    async with asyncio.timeout(timeout):
        while not await probe():
            await asyncio.sleep(0.02)


async def expired(store: Store, name: str = "background") -> bool:
    found = await store.lease_holder(name)
    return found is not None and found[2]


@pytest.fixture
async def other(database_url):
    """A second store on the same database: another replica, with connections of its own."""
    opened = await Store.open(database_url)
    yield opened
    await opened.close()


async def test_the_first_holder_gets_epoch_one_and_others_wait_for_expiry(store, other):
    assert await store.lease_holder("background") is None
    first = await store.acquire_lease("background", "A", SHORT)
    assert first == Fence("background", "A", 1)
    assert await store.lease_holder("background") == ("A", 1, False)
    assert await other.acquire_lease("background", "B", LONG) is None
    await eventually(lambda: expired(store))
    assert await other.acquire_lease("background", "B", LONG) == Fence("background", "B", 2)
    assert await store.acquire_lease("background", "A", LONG) is None
    assert await store.lease_holder("background") == ("B", 2, False)


async def test_renewing_keeps_the_epoch_and_the_lease(store, other):
    taken = await store.acquire_lease("background", "A", SHORT)
    await eventually(lambda: expired(store))
    # Nobody took it in between: the same holder comes back under the same epoch.
    assert await store.acquire_lease("background", "A", LONG) == taken
    assert await store.acquire_lease("background", "A", LONG) == taken
    assert await other.acquire_lease("background", "B", LONG) is None
    assert await store.lease_holder("background") == ("A", 1, False)


async def test_leases_of_different_names_are_apart(store):
    assert await store.acquire_lease("background", "A", LONG) is not None
    assert await store.acquire_lease("other", "B", LONG) == Fence("other", "B", 1)


async def test_a_stale_epoch_writes_nothing_after_a_takeover(store, other):
    stale = await store.acquire_lease("background", "A", SHORT)
    assert await store.record_announced("C1", ["1"], NOW, fence=stale)
    assert await store.set_high_water(NOW, fence=stale)
    await eventually(lambda: expired(store))
    # Expired is enough: nobody has taken it yet, and still the old holder may not write.
    assert not await store.record_announced("C1", ["2"], NOW, fence=stale)
    current = await other.acquire_lease("background", "B", LONG)
    assert current is not None and current.epoch == stale.epoch + 1
    later = NOW + timedelta(minutes=1)
    assert not await store.record_announced("C1", ["3"], later, fence=stale)
    assert not await store.set_high_water(later, fence=stale)
    assert await store.announced(["C1"]) == {"C1": {"1"}}
    assert await store.high_water() == NOW
    assert await other.record_announced("C1", ["4"], later, fence=current)
    assert await other.set_high_water(later, fence=current)
    assert await other.announced(["C1"]) == {"C1": {"1", "4"}}
    assert await other.high_water() == later


async def test_the_same_holder_under_an_older_epoch_is_fenced_out(store, other):
    old = await store.acquire_lease("background", "A", SHORT)
    await eventually(lambda: expired(store))
    await other.acquire_lease("background", "B", SHORT)
    await eventually(lambda: expired(store))
    again = await store.acquire_lease("background", "A", LONG)
    assert again == Fence("background", "A", 3)
    assert not await store.set_high_water(NOW, fence=old)
    assert await store.set_high_water(NOW, fence=again)


async def test_writes_without_a_fence_are_not_fenced(store, other):
    await other.acquire_lease("background", "B", LONG)
    assert await store.record_announced("C1", ["1"], NOW)
    assert await store.set_high_water(NOW)


async def test_a_released_lease_is_taken_at_once(store, other):
    held = await store.acquire_lease("background", "A", LONG)
    await store.release_lease(held)
    assert await store.lease_holder("background") == ("A", 1, True)
    assert not await store.set_high_water(NOW, fence=held)
    taken = await other.acquire_lease("background", "B", LONG)
    assert taken == Fence("background", "B", 2)
    # Handing back a lease already lost ends nobody else's.
    await store.release_lease(held)
    assert await other.lease_holder("background") == ("B", 2, False)
    assert await store.acquire_lease("background", "A", LONG) is None


async def test_of_racing_callers_from_two_stores_exactly_one_wins(store, other):
    tries = [
        replica.acquire_lease("background", f"{side}{n}", LONG)
        for n in range(10)
        for side, replica in (("A", store), ("B", other))
    ]
    won = [fence for fence in await asyncio.gather(*tries) if fence is not None]
    assert len(won) == 1 and won[0].epoch == 1
    holder, epoch, gone = await store.lease_holder("background")
    assert (holder, epoch, gone) == (won[0].holder, 1, False)


async def test_a_takeover_waits_for_a_fenced_write_under_way(store, other):
    """The fence is checked in the write's own transaction, and holds until it commits: a
    takeover that comes in between lands after the write, never under it."""
    fence = await store.acquire_lease("background", "A", SHORT)
    async with store._db.writing() as connection:
        assert await lease.holds(connection, fence)
        await eventually(lambda: expired(other))
        takeover = asyncio.create_task(other.acquire_lease("background", "B", LONG))
        if store.dialect == "postgresql":
            await eventually(lambda: waiting_on_a_lock(other))
        await announced.record(connection, "C1", ["1"], NOW)
        assert not takeover.done()
    assert await takeover == Fence("background", "B", 2)
    assert await other.announced(["C1"]) == {"C1": {"1"}}
    assert not await store.record_announced("C1", ["2"], NOW, fence=fence)


async def waiting_on_a_lock(store: Store) -> bool:
    """Whether a session of this database waits for a row lock (PostgreSQL)."""
    async with store._db.reading() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return bool(found.scalar_one())


async def test_a_lease_lasts_a_positive_time(store):
    with pytest.raises(ValueError):
        await store.acquire_lease("background", "A", 0)
