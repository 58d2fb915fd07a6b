"""Followed submissions in the store: kept across restarts until finished, then forgotten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.progress import Tracked, follow
from bot.core.submission import Action, parse_submission
from bot.store.database import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def tracked(key: str = "t1", *, at: datetime = NOW, private: bool = False) -> Tracked:
    submission = parse_submission(
        Action.REFRESH, "type:dir force https://a.example.com/s/ https://b.example.com/t/"
    )
    return follow(
        submission,
        ("15300000001", "15300000002"),
        id=key,
        user="U0ANA1234",
        channel="C1",
        refused=3,
        at=at,
        private=private,
    )


async def test_a_followed_submission_survives_a_restart(database_url):
    first = await Store.open(database_url)
    kept = replace(tracked(), message_ts="1700000000.000100", shown="P2 0% ")
    await first.save_tracked(kept)
    await first.close()
    again = await Store.open(database_url)
    try:
        assert await again.unfinished_tracked() == [kept]
        assert await again.tracked("t1") == kept
    finally:
        await again.close()


async def test_a_private_one_keeps_its_response_url_and_uses(store):
    kept = replace(tracked(private=True), response_url="https://hooks.slack.com/x", response_uses=2)
    await store.save_tracked(kept)
    assert await store.tracked("t1") == kept
    assert kept.cap_at == NOW + timedelta(minutes=29)


async def test_finished_ones_are_not_resumed_but_can_be_read(store):
    done = tracked().updated("C2 100% ", NOW + timedelta(minutes=1), final=True)
    await store.save_tracked(done)
    await store.save_tracked(tracked("t2"))
    assert [t.id for t in await store.unfinished_tracked()] == ["t2"]
    assert await store.tracked("t1") == done


async def test_old_ones_are_forgotten(store):
    await store.save_tracked(tracked("old", at=NOW - timedelta(days=4)))
    await store.save_tracked(tracked("new"))
    await store.forget_tracked_before(NOW - timedelta(days=3))
    assert await store.tracked("old") is None
    assert await store.tracked("new") is not None
