"""The read cache replicas share in Redis: cache-aside with JSON values, and one upstream call
for identical reads, whichever replicas they are asked of.

A read first looks for the stored answer (one GET). Missing, the replica's SingleFlight sends
one request per key on: it claims the key's flight (`SET NX PX` of a token) and, winning,
fetches and stores the answer; losing, it polls for the winner's answer every 30 ms. A `fresh`
read (the Refresh button) skips the stored answer but still claims or waits, and takes only an
answer stored after it asked. When the last waiter gives up, the call is cancelled and its
flight deleted (if still its own), so the others claim it instead of waiting for nothing.
No value is kept in-process, except in the fallback cache used while Redis is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.exceptions import RedisError

from bot.cdn.cache import Cached, Read, ResponseCache, SingleFlight
from bot.cdn.shared.keys import KeySpace
from bot.cdn.shared.link import RedisLink

T = TypeVar("T")

POLL_EVERY = 0.03
# How long a crashed winner can hold the others up; a live one renews its claim while it works.
FLIGHT_TTL = 10.0
# Answers are stored at least this long, so the replicas polling for one find it even when
# CACHE_TTL is 0 (a plain read never takes an answer older than CACHE_TTL).
HANDOFF = 2.0
# Stored answers' age is counted in ms; 0 would claim "fetched for this very reply".
_LEAST_AGE = 0.001

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class _RedisAway(Exception):
    """Redis stopped answering mid-read: the read goes to the in-process cache instead."""


@dataclass(frozen=True)
class _Stored:
    by: str  # the flight token of the replica that fetched it
    age: float
    data: Any


def _stored(raw: str | None, pttl: int | None = None) -> _Stored | None:
    """A stored answer's envelope, or None if there is none or it is unreadable (written by
    another version): then it is fetched again."""
    if raw is None:
        return None
    try:
        envelope = json.loads(raw)
        lived = int(envelope["ttl"]) - pttl if pttl is not None and pttl >= 0 else 0
        return _Stored(str(envelope["by"]), max(lived / 1000, _LEAST_AGE), envelope["v"])
    except (ValueError, TypeError, KeyError):
        return None


class SharedCache:
    """A ReadCache in Redis for every replica, falling back to `fallback` without Redis."""

    def __init__(
        self,
        link: RedisLink,
        keys: KeySpace,
        *,
        ttl: float,
        fallback: ResponseCache,
        poll_every: float = POLL_EVERY,
        flight_ttl: float = FLIGHT_TTL,
    ) -> None:
        self._link = link
        self._keys = keys
        self._ttl = ttl
        self._fallback = fallback
        self._poll_every = poll_every
        self._flight_ms = round(flight_ttl * 1000)
        self._keep_ms = round(max(ttl, HANDOFF) * 1000)
        self._flights = SingleFlight()
        self._release = link.client.register_script(_RELEASE)
        self._renew = link.client.register_script(_RENEW)

    async def get(
        self, key: Read[T], fetch: Callable[[], Awaitable[T]], *, fresh: bool = False
    ) -> Cached[T]:
        """The stored answer to `key` (unless `fresh`), else the one fetched for it by this
        replica or another."""
        if self._link.up:
            try:
                return await self._flights.run(
                    (key, fresh), lambda: self._shared(key, fetch, fresh=fresh)
                )
            except _RedisAway:
                pass
        return await self._fallback.get(key, fetch, fresh=fresh)

    def _hit(self, read: Read[T], stored: _Stored | None) -> Cached[T] | None:
        if stored is None or stored.age >= self._ttl:
            return None
        with contextlib.suppress(ValueError, TypeError, KeyError):
            return Cached(read.form.load(stored.data), stored.age, from_cache=True)
        return None

    async def _shared(
        self, read: Read[T], fetch: Callable[[], Awaitable[T]], *, fresh: bool
    ) -> Cached[T]:
        answer, flight = self._keys.answer(read), self._keys.flight(read)
        client = self._link.client
        token = uuid.uuid4().hex
        try:
            if not fresh and self._ttl > 0:
                async with client.pipeline(transaction=True) as pipe:
                    pipe.get(answer)
                    pipe.pttl(answer)
                    raw, pttl = await pipe.execute()
                hit = self._hit(read, _stored(raw, pttl))
                if hit is not None:
                    return hit
            while True:
                async with client.pipeline(transaction=True) as pipe:
                    pipe.get(answer)
                    pipe.pttl(answer)
                    pipe.set(flight, token, nx=True, px=self._flight_ms)
                    pipe.get(flight)
                    raw, pttl, won, holder = await pipe.execute()
                seen = _stored(raw, pttl)
                hit = None if fresh else self._hit(read, seen)
                if hit is not None:  # stored since we looked
                    if won:
                        await self._release(keys=[flight], args=[token])
                    return hit
                if won:
                    return await self._fetch_and_store(read, fetch, answer, flight, token)
                polled = await self._poll(read, answer, flight, holder, seen.by if seen else None)
                if polled is not None:
                    return polled
        except RedisError as error:
            self._link.failed(error)
            raise _RedisAway from error

    async def _poll(
        self, read: Read[T], answer: str, flight: str, holder: str, seen_by: str | None
    ) -> Cached[T] | None:
        """The answer `holder`'s flight stores, or None when that flight ends without one we
        can take (then the key is claimed again)."""
        while True:
            await asyncio.sleep(self._poll_every)
            async with self._link.client.pipeline(transaction=True) as pipe:
                pipe.get(answer)
                pipe.get(flight)
                raw, current = await pipe.execute()
            stored = _stored(raw)
            if stored is not None and stored.by != seen_by:  # stored since we asked
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    # Fetched by a call in flight when we asked: live, as a joined call is.
                    return Cached(read.form.load(stored.data), 0.0, from_cache=False)
            if current != holder:
                return None

    async def _fetch_and_store(
        self, read: Read[T], fetch: Callable[[], Awaitable[T]], answer: str, flight: str, token: str
    ) -> Cached[T]:
        renewing = asyncio.create_task(self._keep_claim(flight, token))
        try:
            value = await fetch()
        except BaseException:
            # Failed or given up: free the key at once so nobody waits for this call.
            renewing.cancel()
            await asyncio.shield(self._let_go(flight, token))
            raise
        renewing.cancel()
        envelope = {"by": token, "ttl": self._keep_ms, "v": read.form.dump(value)}
        try:
            async with self._link.client.pipeline(transaction=True) as pipe:
                pipe.set(answer, json.dumps(envelope, separators=(",", ":")), px=self._keep_ms)
                await self._release(keys=[flight], args=[token], client=pipe)
                await pipe.execute()
        except RedisError as error:  # the answer is ours all the same
            self._link.failed(error)
        return Cached(value, 0.0, from_cache=False)

    async def _keep_claim(self, flight: str, token: str) -> None:
        """Renew the claim while the call runs, so a slow call is not made twice."""
        with contextlib.suppress(RedisError):
            while True:
                await asyncio.sleep(self._flight_ms / 3000)
                if not await self._renew(keys=[flight], args=[token, self._flight_ms]):
                    return  # lost it (expired and claimed by another): nothing to keep

    async def _let_go(self, flight: str, token: str) -> None:
        try:
            await self._release(keys=[flight], args=[token])
        except RedisError as error:
            self._link.failed(error)
