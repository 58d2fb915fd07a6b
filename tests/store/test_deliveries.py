"""Deliveries from Slack are handled once, whichever replica (store) is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.database import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_a_delivery_is_taken_once_by_any_replica(store, database_url):
    assert await store.claim_delivery("event:Ev1", at=NOW, forget_before=NOW - HOUR)
    assert not await store.claim_delivery("event:Ev1", at=NOW, forget_before=NOW - HOUR)
    other = await Store.open(database_url)
    try:
        assert not await other.claim_delivery("event:Ev1", at=NOW, forget_before=NOW - HOUR)
        assert await other.claim_delivery("event:Ev2", at=NOW, forget_before=NOW - HOUR)
    finally:
        await other.close()


async def test_deliveries_are_forgotten_after_slack_stops_retrying(store):
    assert await store.claim_delivery("event:Ev1", at=NOW, forget_before=NOW - HOUR)
    later = NOW + 2 * HOUR
    assert await store.claim_delivery("event:Ev1", at=later, forget_before=later - HOUR)
