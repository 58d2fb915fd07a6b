"""The store on both engines: created and migrated on open, merges duplicates, shared by many
tasks and by several stores on one database."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.audit import AuditEntry
from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.store.database import ActiveMute, Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def sub(channel="C1", domain=None, kind=None, *, by="U0ANA1234"):
    return Subscription(channel, domain, kind, by, NOW)


async def test_a_sqlite_file_is_created_on_first_run_in_wal_mode(tmp_path):
    path = tmp_path / "state" / "bot.db"
    store = await Store.open(f"sqlite:///{path}")
    try:
        assert store.dialect == "sqlite"
        await store.ping()
    finally:
        await store.close()
    with sqlite3.connect(path) as reading:
        assert reading.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_memory_database_serves_many_tasks_at_once():
    store = await Store.open("sqlite:///:memory:")
    try:
        await asyncio.gather(*(store.subscribe(sub(f"C{n}")) for n in range(20)))
        assert len(await store.all_subscriptions()) == 20
    finally:
        await store.close()


async def test_reopening_keeps_data(database_url):
    first = await Store.open(database_url)
    await first.subscribe(sub())
    revision = await first.schema_revision()
    await first.close()
    again = await Store.open(database_url)
    try:
        assert await again.schema_revision() == revision is not None
        assert len(await again.all_subscriptions()) == 1
    finally:
        await again.close()


async def test_dialect_and_ping(store, database_url):
    assert store.dialect == database_url.split(":")[0]
    await store.ping()


async def test_duplicate_subscriptions_are_merged(store):
    assert await store.subscribe(sub(domain="a.com")) is True
    assert await store.subscribe(sub(domain="a.com", by="U0OTHER01")) is False
    assert await store.subscribe(sub(domain="a.com", kind=ObjectType.FILE)) is True
    assert await store.subscribe(sub("C2", domain="a.com")) is True
    found = await store.subscriptions("C1")
    assert [(s.domain, s.object_type, s.added_by) for s in found] == [
        ("a.com", None, "U0ANA1234"),
        ("a.com", ObjectType.FILE, "U0ANA1234"),
    ]


@pytest.mark.parametrize("blank", ["", " "])
async def test_one_channels_subscriptions_never_become_everyones(store, blank):
    await store.subscribe(sub("C1"))
    await store.subscribe(sub("C2", domain="b.com"))
    with pytest.raises(ValueError, match="all_subscriptions"):
        await store.subscriptions(blank)
    assert [s.channel_id for s in await store.all_subscriptions()] == ["C1", "C2"]
    assert [s.channel_id for s in await store.subscriptions("C2")] == ["C2"]


async def test_unreachable_until_subscribed_again(store):
    await store.subscribe(sub())
    await store.mark_unreachable("C1", "is_archived")
    assert (await store.subscriptions("C1"))[0].unreachable == "is_archived"
    await store.subscribe(sub())
    assert (await store.subscriptions("C1"))[0].unreachable is None


async def test_unsubscribe_one_or_all(store):
    await store.subscribe(sub(domain="a.com"))
    await store.subscribe(sub(domain="b.com"))
    await store.subscribe(sub())
    assert await store.unsubscribe("C1", "a.com", None, everything=False) == 1
    assert await store.unsubscribe("C1", "zzz.com", None, everything=False) == 0
    assert await store.unsubscribe("C1", None, None, everything=True) == 2
    assert await store.subscriptions("C1") == []


async def test_announced_and_forgotten(store):
    await store.record_announced("C1", ["1", "2"], NOW - timedelta(days=4))
    await store.record_announced("C1", ["2", "3"], NOW)  # "2" already known: kept as it was
    await store.record_announced("C2", ["9"], NOW)
    assert await store.announced(["C1", "C2", "C3"]) == {
        "C1": {"1", "2", "3"},
        "C2": {"9"},
        "C3": set(),
    }
    await store.forget_announced_before(NOW - timedelta(days=3))
    assert (await store.announced(["C1"]))["C1"] == {"3"}


async def test_mutes_expire(store):
    await store.mute("C1", "a.com", NOW + timedelta(hours=1))
    await store.mute("C1", "b.com", NOW - timedelta(seconds=1))
    assert await store.muted(NOW) == {"C1": {"a.com"}}
    assert await store.muted(NOW + timedelta(hours=2)) == {}


async def test_mutes_say_who_and_until_when_and_can_be_lifted(store):
    await store.mute("C1", "a.com", NOW + timedelta(hours=1), by="U0ANA1234")
    await store.mute("C1", "b.com", NOW + timedelta(minutes=30), by="U0OTHER01")
    await store.mute("C1", "old.com", NOW - timedelta(seconds=1), by="U0ANA1234")
    await store.mute("C2", "a.com", NOW + timedelta(hours=1), by="U0ANA1234")
    assert await store.mutes("C1", NOW) == [
        ActiveMute("b.com", "U0OTHER01", NOW + timedelta(minutes=30)),
        ActiveMute("a.com", "U0ANA1234", NOW + timedelta(hours=1)),
    ]
    assert await store.unmute("C1", "a.com") == ["a.com"]
    assert await store.unmute("C1", "a.com") == []
    assert await store.unmute("C1", None) == ["b.com", "old.com"]
    assert await store.mutes("C1", NOW) == []
    assert await store.muted(NOW) == {"C2": {"a.com"}}  # another channel's mute stays
    with pytest.raises(ValueError):
        await store.unmute(" ", None)


async def test_high_water_mark(store):
    assert await store.high_water() is None
    await store.set_high_water(NOW)
    await store.set_high_water(NOW + timedelta(minutes=1))
    assert await store.high_water() == NOW + timedelta(minutes=1)


async def test_many_tasks_share_one_store(store):
    async def writer(n: int) -> None:
        await store.subscribe(sub(f"C{n}"))
        await store.record_announced(f"C{n}", [str(i) for i in range(50)], NOW)
        await store.announced([f"C{n}"])

    await asyncio.gather(*(writer(n) for n in range(40)))
    assert len(await store.all_subscriptions()) == 40
    assert all(
        len(ids) == 50 for ids in (await store.announced([f"C{n}" for n in range(40)])).values()
    )


async def test_audit_trail_is_kept_by_age_not_by_count(store):
    horizon = timedelta(days=90)
    action = AuditEntry(NOW - timedelta(days=10), "U0ADMIN01", "C1", "action", "mute")
    await store.record_audit(action, forget_before=action.at - horizon)
    # A flood of cheap commands cannot push the action out of the trail...
    for n in range(5001):
        entry = AuditEntry(NOW, f"U{n}", "C1", "command", f"failed {n}", results=n)
        await store.record_audit(entry, forget_before=NOW - horizon)
    newest = await store.recent_audit(6000)
    assert len(newest) == 5002 and newest[-1] == action
    assert newest[0].user == "U5000" and newest[0].results == 5000 and newest[0].at == NOW
    # ...while time does, measured from the moment passed in (the store reads no clock).
    later = NOW + timedelta(days=85)
    await store.record_audit(
        AuditEntry(later, "U0", "C1", "command", "x"), forget_before=later - horizon
    )
    assert [e.at for e in await store.recent_audit(6000)][-1] == NOW
    latest = NOW + timedelta(days=91)
    await store.record_audit(
        AuditEntry(latest, "U0", "C1", "command", "y"), forget_before=latest - horizon
    )
    assert [e.detail for e in await store.recent_audit(10)] == ["y", "x"]
