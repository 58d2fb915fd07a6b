"""The schedule's Lua scripts against a small Python model of the same GCRA, on the same
vectors: each vector sets a schedule relative to Redis's clock, runs one script, and the model,
given the time the script read, must agree on the answer and on what was stored."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.cdn.shared import schedule
from bot.cdn.shared.schedule import Schedule

KEY = "test:rl:acct:DescribeRefreshTasks"
FULL = 1_000_000  # ppm
RECOVERY = 50_000  # ppm per second


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def model_pace(state: dict, now: int) -> int:
    slowed_at = state.get("slowed_at", now)
    return min(FULL, state.get("pace", FULL) + (now - slowed_at) * RECOVERY // 1_000_000)


def model_book(state: dict, now: int, interval: int, ahead: bool) -> tuple[tuple, dict]:
    """{granted, wait} and the new state: the next free slot is booked (or only a free one)."""
    slot = max(state.get("tat", now), now)
    if not ahead and slot > now:
        return (False, slot - now), state
    next_free = slot + ceil_div(interval * FULL, model_pace(state, now))
    return (True, slot - now), {**state, "tat": next_free}


def model_slow_down(state: dict, now: int, interval: int, pause: int) -> tuple[tuple, dict]:
    """The pace halves (once per second, never below a tenth) and the schedule moves on."""
    pace, new = model_pace(state, now), dict(state)
    if "slowed_at" not in state or now - state["slowed_at"] >= 1_000_000:
        pace = max(100_000, pace // 2)
        new.update(pace=pace, slowed_at=now)
    next_free = max(state.get("tat", now), now) + max(pause, ceil_div(interval * FULL, pace))
    return (pace, next_free - now), {**new, "tat": next_free}


@pytest.fixture
async def redis(redis_url):
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def place(redis, offsets: dict) -> int:
    """Store a schedule whose times are `offsets` µs from Redis's now; that now."""
    seconds, micros = await redis.time()
    now = seconds * 1_000_000 + micros
    state = {name: (now + value if name != "pace" else value) for name, value in offsets.items()}
    if state:
        await redis.hset(KEY, mapping=state)
    return now


async def stored(redis) -> dict:
    return {name: int(value) for name, value in (await redis.hgetall(KEY)).items()}


def absolute(offsets: dict, base: int) -> dict:
    return {name: (base + value if name != "pace" else value) for name, value in offsets.items()}


BOOKINGS = [
    # (schedule as offsets from now in µs, interval s, ahead)
    ({}, 0.1, True),  # an empty schedule: now, and the next slot an interval on
    ({}, 0.1, False),  # the background may take a free slot too
    ({"tat": -5_000_000}, 0.1, False),  # long idle: no burst is saved up
    ({"tat": 250_000}, 0.1, True),  # a person books the slot 250 ms away
    ({"tat": 250_000}, 0.1, False),  # the background is told when to ask again, books nothing
    ({"tat": 40_000, "pace": 500_000, "slowed_at": -2_000_000}, 0.1, True),  # 60 % pace now
    ({"tat": 0, "pace": 100_000, "slowed_at": -100_000_000}, 0.05, True),  # fully regained
    ({"tat": 10_000, "pace": 100_000, "slowed_at": 0}, 0.111112, True),  # at the floor
]


@pytest.mark.parametrize(("offsets", "interval", "ahead"), BOOKINGS)
async def test_booking_agrees_with_the_model(redis, offsets, interval, ahead):
    base = await place(redis, offsets)
    before = absolute(offsets, base)
    booking = await Schedule(redis).book(KEY, interval=interval, ahead=ahead)
    (granted, wait), after = model_book(before, booking.now_us, round(interval * 1e6), ahead)
    assert (booking.granted, round(booking.wait * 1e6)) == (granted, wait)
    assert await stored(redis) == after
    if granted:  # the key outlives its backlog by the linger time
        backlog_ms = ceil_div(after["tat"] - booking.now_us, 1000)
        assert 0 < await redis.pttl(KEY) <= backlog_ms + schedule.LINGER_MS


async def test_a_run_of_bookings_agrees_with_the_model(redis):
    state: dict = {}
    scripts = Schedule(redis)
    for ahead in [True] * 6 + [False, True, False]:
        booking = await scripts.book(KEY, interval=0.1, ahead=ahead)
        (granted, wait), state = model_book(state, booking.now_us, 100_000, ahead)
        assert (booking.granted, round(booking.wait * 1e6)) == (granted, wait)
        assert await stored(redis) == state
    assert state["tat"] > booking.now_us + 500_000  # six slots booked one interval apart


SLOW_DOWNS = [
    # (schedule as offsets from now in µs, interval s, pause s)
    ({}, 0.1, 0.0),  # first throttle: half pace, pushed one (slower) interval on
    ({}, 0.1, 1.5),  # the API's retry-after pushes further
    ({"tat": 300_000}, 0.1, 0.0),  # pushed on from the booked slots, not from now
    ({"tat": 0, "pace": 500_000, "slowed_at": -200_000}, 0.1, 0.0),  # same episode: no cut
    ({"tat": 0, "pace": 500_000, "slowed_at": -3_000_000}, 0.1, 0.0),  # regained, then cut
    ({"tat": 0, "pace": 150_000, "slowed_at": -1_000_000}, 0.1, 0.0),  # never below the floor
]


@pytest.mark.parametrize(("offsets", "interval", "pause"), SLOW_DOWNS)
async def test_slowing_down_agrees_with_the_model(redis, offsets, interval, pause):
    base = await place(redis, offsets)
    before = absolute(offsets, base)
    slowed = await Schedule(redis).slow_down(KEY, interval=interval, pause=pause)
    expected, after = model_slow_down(
        before, slowed.now_us, round(interval * 1e6), round(pause * 1e6)
    )
    assert (round(slowed.pace * FULL), round(slowed.wait * 1e6)) == expected
    assert await stored(redis) == after


async def test_the_scripts_survive_a_flushed_script_cache(redis):
    scripts = Schedule(redis)
    await scripts.book(KEY, interval=0.1, ahead=True)
    await redis.script_flush()  # as after a restart or a failover: EVALSHA finds nothing
    assert (await scripts.book(KEY, interval=0.1, ahead=True)).granted
