"""The account's rate limits kept in Redis, so every replica together keeps to them.

Each action has one schedule in Redis (bot.cdn.shared.schedule). Inside a replica, callers wait
in the same WaitingLine as the in-process limiter (lightest person first, the watcher by its
share), and only the head of each action's line asks Redis, for one slot at a time: people on
different replicas take turns at the one budget, and nobody's heavy query starves anyone.

People book the next slot however far off it is; the background (the watcher) takes only a slot
that is free now, so people on any replica go first. A throttling answer pushes the schedule on
and cuts its pace for every replica. Without Redis, the replica limits itself in-process to its
share of each rate (rate ÷ replicas), never to the full rate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from redis.exceptions import RedisError

from bot.cdn.limiter import DOCUMENTED_RATES, Priority, RateLimiter, WaitingLine
from bot.cdn.shared.keys import KeySpace
from bot.cdn.shared.link import RedisLink
from bot.cdn.shared.schedule import Schedule

# One budget for all replicas. Slots are booked one interval apart (burst 1) at 80 % of the
# API's limit L. A call reaches the API some delay after its slot, and that delay varies between
# calls and replicas by up to J (network, busy event loops). A one-second window at the API then
# holds only calls whose slots lie within 1 + J seconds: at most 0.8 * L * (1 + J) + 1 of them,
# which stays within L for any J < 1/0.8 - 1 = 250 ms (8/s for a limit of 10). At 90 % the
# tolerance was 111 ms, and replicas sharing two busy cores went past it. A burst of B would
# add B - 1 calls to every such window.
SHARE_OF_LIMIT = 0.8
# The background books nothing ahead; once it has waited this long for a free slot, it books
# like a person, behind at most one slot per replica. Under saturation the watcher so still gets
# a call every BACKGROUND_PATIENCE + replicas * interval (1.33 s at 10/s and three replicas:
# about 8 % of the budget) and, where people wait on its own replica, the WaitingLine's
# BACKGROUND_SHARE of that replica's slots.
BACKGROUND_PATIENCE = 1.0
# A replica whose event loop was held up (a pause, a busy core) wakes after its slot. A call sent
# then would land among the next replicas' slots and crowd a second at the API, so a slot
# missed by more than this goes unused and the caller books another: lateness stays within
# LATE_SLOT plus one Redis round trip, well inside the jitter the share above allows for.
LATE_SLOT = 0.05


class _RedisAway(Exception):
    """Redis stopped answering while a caller waited: it waits in-process instead."""


class _Line:
    def __init__(self) -> None:
        self.waiting = WaitingLine()
        self.arrived = asyncio.Event()
        self.pump: asyncio.Task[None] | None = None


class SharedLimiter:
    """Async call spacing per action across replicas (a Limiter), fair between callers."""

    def __init__(
        self,
        link: RedisLink,
        keys: KeySpace,
        limits: Mapping[str, float] | None = None,
        *,
        replicas: int,
        default_limit: float = 10.0,
        patience: float = BACKGROUND_PATIENCE,
    ) -> None:
        self._link = link
        self._keys = keys
        self._limits = dict(DOCUMENTED_RATES if limits is None else limits)
        self._default = default_limit
        self._patience = patience
        self._schedule = Schedule(link.client)
        shares = {action: limit / replicas for action, limit in self._limits.items()}
        self._fallback = RateLimiter(shares, default_rate=default_limit / replicas)
        self._lines: dict[str, _Line] = {}

    def _interval(self, action: str) -> float:
        return 1 / (self._limits.get(action, self._default) * SHARE_OF_LIMIT)

    def rate(self, action: str) -> float:
        """The calls per second of `action` this replica keeps to: the account's (shared with
        the others) through Redis, its own share of it without."""
        if self._link.up:
            return 1 / self._interval(action)
        return self._fallback.rate(action)

    async def acquire(
        self, action: str, priority: Priority = Priority.INTERACTIVE, *, caller: str = ""
    ) -> None:
        """Wait until `action` may be called once (see the module's docstring for the order)."""
        if self._link.up:
            line = self._lines.get(action) or self._lines.setdefault(action, _Line())
            waiter = line.waiting.join(priority, caller)
            line.arrived.set()
            if line.pump is None or line.pump.done():
                line.pump = asyncio.create_task(self._pump(action, line))
            try:
                await waiter
                return
            except _RedisAway:
                pass
        await self._fallback.acquire(action, priority, caller=caller)

    async def throttled(self, action: str, *, retry_after: float | None = None) -> None:
        """The API said we are too fast for `action`: every replica slows down, then recovers."""
        if self._link.up:
            key, interval = self._keys.schedule(action), self._interval(action)
            try:
                await self._schedule.slow_down(key, interval=interval, pause=retry_after or 0.0)
                return
            except RedisError as error:
                self._link.failed(error)
        await self._fallback.throttled(action, retry_after=retry_after)

    async def _pump(self, action: str, line: _Line) -> None:
        """Book slots for `action` one at a time while anybody waits; each goes to whoever's
        turn it is when it comes."""
        key, interval = self._keys.schedule(action), self._interval(action)
        clock = asyncio.get_running_loop().time
        left_out_since: float | None = None  # since when only the background waits, slotless
        try:
            while line.waiting.waiting():
                ahead = line.waiting.people_waiting()
                if ahead:
                    left_out_since = None
                else:
                    left_out_since = clock() if left_out_since is None else left_out_since
                    ahead = clock() - left_out_since >= self._patience
                line.arrived.clear()
                booking = await self._schedule.book(key, interval=interval, ahead=ahead)
                if not booking.granted:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(booking.wait):
                            await line.arrived.wait()  # a person may have come: book for them
                    continue
                due = clock() + booking.wait
                await asyncio.sleep(booking.wait)
                if clock() - due > LATE_SLOT:
                    continue  # held up past the slot: let it go and book the next one
                left_out_since = None
                if line.waiting.waiting():  # else the slot goes unused: nobody waits any more
                    line.waiting.take().set_result(None)
        except RedisError as error:
            self._link.failed(error)
            line.waiting.fail_all(_RedisAway())
        except Exception as error:  # a fault of ours: the waiters hear of it, none hangs
            line.waiting.fail_all(error)

    async def aclose(self) -> None:
        """Stop booking (at shutdown)."""
        for line in self._lines.values():
            if line.pump is not None:
                line.pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await line.pump
