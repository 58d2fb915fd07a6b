"""Confirmations of writes: kept across restarts, spent by exactly one click."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.submission import Action, Confirmation, Kind, Submission, parse_submission
from bot.store.database import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def confirmation(key: str = "c1", *, at: datetime = NOW) -> Confirmation:
    submission = parse_submission(
        Action.REFRESH, "type:dir force https://a.example.com/s/ https://b.example.com/t/"
    )
    return Confirmation(key, submission, "U0ANA1234", "C1", at)


async def test_a_confirmation_survives_a_restart_and_is_spent_once(database_url):
    first = await Store.open(database_url)
    await first.save_confirmation(confirmation())
    await first.close()
    again = await Store.open(database_url)
    try:
        claim = await again.claim_confirmation("c1", user="U0BOB5678", at=NOW)
        assert claim.granted and claim.confirmation == confirmation()
        assert claim.confirmation.submission.kind is Kind.DIRECTORY
        second = await again.claim_confirmation("c1", user="U0ANA1234", at=NOW)
        assert not second.granted
        assert (second.used_by, second.used_at) == ("U0BOB5678", NOW)
    finally:
        await again.close()


async def test_simultaneous_clicks_on_two_stores_grant_one(database_url):
    """Two stores on one database stand for two processes: each has its own connections."""
    stores = [await Store.open(database_url), await Store.open(database_url)]
    try:
        await stores[0].save_confirmation(confirmation())
        claims = await asyncio.gather(
            *(
                store.claim_confirmation("c1", user=f"U0CLICK{n:03d}", at=NOW)
                for n in range(20)
                for store in stores
            )
        )
    finally:
        for store in stores:
            await store.close()
    assert sum(claim.granted for claim in claims) == 1
    winner = next(claim.used_by for claim in claims if claim.granted)
    assert {claim.used_by for claim in claims} == {winner}


async def test_unknown_and_forgotten_confirmations_grant_nothing(store):
    assert not (await store.claim_confirmation("nope", user="U1", at=NOW)).granted
    await store.save_confirmation(confirmation("old", at=NOW - timedelta(days=2)))
    await store.save_confirmation(confirmation("new"))
    await store.forget_confirmations_before(NOW - timedelta(days=1))
    gone = await store.claim_confirmation("old", user="U1", at=NOW)
    assert gone.confirmation is None and not gone.granted
    assert (await store.claim_confirmation("new", user="U1", at=NOW)).granted


def test_a_confirmation_expires():
    made = confirmation()
    assert not made.expired(NOW + timedelta(minutes=15))
    assert made.expired(NOW + timedelta(minutes=16))


async def test_prefetch_options_round_trip(store):
    wanted = Submission(Action.PREFETCH, Kind.FILE, ("https://a.example.com/x",), area="overseas")
    await store.save_confirmation(Confirmation("p", wanted, "U1", "C1", NOW))
    claim = await store.claim_confirmation("p", user="U1", at=NOW)
    assert claim.confirmation is not None and claim.confirmation.submission == wanted
