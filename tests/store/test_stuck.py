"""Stuck notices and the subscriptions' opt-out, on both engines: recorded once, closed with
the failures they told, fenced by the lease, forgotten by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.stuck import StuckNotice
from bot.core.watch import Subscription
from bot.store.database import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def sub(channel="C1", domain=None, *, stuck=True):
    return Subscription(channel, domain, None, "U0ANA1234", NOW, stuck=stuck)


async def test_a_subscription_keeps_its_choice_about_stuck_tasks(store):
    await store.subscribe(sub("C1", "a.com", stuck=False))
    await store.subscribe(sub("C1", "b.com"))
    assert [(s.domain, s.stuck) for s in await store.subscriptions("C1")] == [
        ("a.com", False),
        ("b.com", True),
    ]
    # Subscribing again sets it as asked, and makes an unreachable channel reachable.
    await store.mark_unreachable("C1", "not_in_channel")
    assert await store.subscribe(sub("C1", "a.com", stuck=True)) is False
    assert await store.subscribe(sub("C1", "b.com", stuck=False)) is False
    found = {s.domain: s for s in await store.subscriptions("C1")}
    assert found["a.com"].stuck and not found["b.com"].stuck
    assert found["a.com"].unreachable is None


async def test_a_notice_is_recorded_once_and_keeps_its_first_message(store):
    assert await store.record_stuck("C1", ["T1", "T2"], "1700000000.000100", NOW)
    assert await store.record_stuck("C1", ["T2", "T3"], "1700000099.000100", NOW + timedelta(1))
    assert await store.record_stuck("C2", ["T1"], None, NOW)
    notices = await store.stuck_notices()
    assert notices == [
        StuckNotice("C1", "T1", "1700000000.000100", NOW),
        StuckNotice("C1", "T2", "1700000000.000100", NOW),
        StuckNotice("C2", "T1", None, NOW),
        StuckNotice("C1", "T3", "1700000099.000100", NOW + timedelta(1)),
    ]


async def test_closing_tells_the_failures_and_keeps_closed_notices_for_the_tasks_asked(store):
    await store.record_stuck("C1", ["T1", "T2", "T3"], "1.1", NOW)
    await store.record_stuck("C2", ["T2"], "2.2", NOW)
    assert await store.close_stuck("C1", ["T1", "T2"], NOW, failed=["T2"])
    still_open = await store.stuck_notices()
    assert [(n.channel_id, n.task_id) for n in still_open] == [("C1", "T3"), ("C2", "T2")]
    # Closed notices come back for the tasks named: a task told of once is not told again.
    asked = await store.stuck_notices(["T1", "T9"])
    assert [(n.channel_id, n.task_id, n.ended) for n in asked] == [
        ("C1", "T1", True),
        ("C1", "T3", False),
        ("C2", "T2", False),
    ]
    # The thread said the failure, so the failure watcher counts it as announced there.
    assert await store.announced(["C1", "C2"]) == {"C1": {"T2"}, "C2": set()}


async def test_many_tasks_at_once(store):
    ids = [str(n) for n in range(1200)]
    assert await store.record_stuck("C1", ids, "1.1", NOW)
    assert await store.close_stuck("C1", ids[:700], NOW, failed=ids[:3])
    assert len(await store.stuck_notices()) == 500
    assert len(await store.stuck_notices(ids)) == 1200


async def test_old_notices_are_forgotten(store):
    await store.record_stuck("C1", ["T1"], "1.1", NOW - timedelta(days=40))
    await store.record_stuck("C1", ["T2"], "1.2", NOW)
    await store.forget_stuck_before(NOW - timedelta(days=30))
    assert [n.task_id for n in await store.stuck_notices()] == ["T2"]


async def test_a_replica_that_lost_the_lease_records_and_closes_nothing(store: Store):
    old = await store.acquire_lease("background", "old", 60)
    await store.record_stuck("C1", ["T1"], "1.1", NOW, fence=old)
    await store.release_lease(old)
    new = await store.acquire_lease("background", "new", 60)
    assert old is not None and new is not None and new.epoch == old.epoch + 1
    assert not await store.record_stuck("C1", ["T2"], "1.2", NOW, fence=old)
    assert not await store.close_stuck("C1", ["T1"], NOW, failed=["T1"], fence=old)
    assert [(n.task_id, n.ended) for n in await store.stuck_notices()] == [("T1", False)]
    assert await store.announced(["C1"]) == {"C1": set()}
    assert await store.close_stuck("C1", ["T1"], NOW, failed=["T1"], fence=new)
    assert await store.stuck_notices() == []
