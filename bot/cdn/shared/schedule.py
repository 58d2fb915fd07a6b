"""Each action's call schedule in Redis: a GCRA (burst 1) on Redis's own clock.

The schedule is a hash: `tat` is the next free slot, `pace` the share of the full rate left
after throttling (in ppm, regained linearly), `slowed_at` when it was last cut; times are µs of
Redis `TIME`, so the replicas' clocks never matter. Booking a slot moves `tat` one interval on;
the caller sleeps exactly the wait it is told. Each script touches one key.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

MICROS = 1_000_000
# Throttling halves the pace, never below a tenth, and 5 % of the full rate comes back per
# second: as the in-process limiter does.
SLOWDOWN = 0.5
FLOOR = 0.1
RECOVERY_PER_SECOND = 0.05
# Throttles this soon after the last cut are the same episode (calls already on their way, maybe
# from other replicas): they push the schedule on, but cut the pace only once.
QUIET = 1.0
# A schedule outlives its last slot long enough to regain full pace from the floor (18 s).
LINGER_MS = 60_000

_STATE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tat', 'pace', 'slowed_at')
local tat = math.max(tonumber(state[1]) or now, now)
local slowed_at = tonumber(state[3])
local pace = math.min(1000000, (tonumber(state[2]) or 1000000)
  + math.floor((now - (slowed_at or now)) * tonumber(ARGV[3]) / 1000000))
"""

_MOVE_ON = """
redis.call('HSET', KEYS[1], 'tat', string.format('%d', next_free))
redis.call('PEXPIRE', KEYS[1], math.ceil((next_free - now) / 1000) + tonumber(ARGV[4]))
"""

# ARGV: interval µs at full pace, "1" to book however far the next slot is (a person waits) or
# "0" to take only a slot that is free now (the background), recovery ppm/s, linger ms.
# Returns {granted, wait µs, now µs}: granted, go after `wait`; else ask again after it.
BOOK = f"""{_STATE}
if ARGV[2] ~= '1' and tat > now then
  return {{0, tat - now, now}}
end
local next_free = tat + math.ceil(tonumber(ARGV[1]) * 1000000 / pace)
{_MOVE_ON}
return {{1, tat - now, now}}
"""

# ARGV: interval µs at full pace, pause µs (the API's retry-after, else 0), recovery ppm/s,
# linger ms, slow-down ppm, floor ppm, quiet µs.
# Returns {pace ppm, wait µs until the next free slot, now µs}.
SLOW_DOWN = f"""{_STATE}
if slowed_at == nil or now - slowed_at >= tonumber(ARGV[7]) then
  pace = math.max(tonumber(ARGV[6]), math.floor(pace * tonumber(ARGV[5]) / 1000000))
  redis.call('HSET', KEYS[1], 'pace', string.format('%d', pace),
    'slowed_at', string.format('%d', now))
end
local next_free = tat + math.max(tonumber(ARGV[2]), math.ceil(tonumber(ARGV[1]) * 1000000 / pace))
{_MOVE_ON}
return {{pace, next_free - now, now}}
"""


@dataclass(frozen=True)
class Booking:
    """A slot, or none: go after `wait` seconds if `granted`, else ask again then. `now_us` is
    the Redis time it was decided at."""

    granted: bool
    wait: float
    now_us: int


@dataclass(frozen=True)
class Slowed:
    """The schedule after a throttle: its `pace` (share of the full rate) and how long until
    its next free slot."""

    pace: float
    wait: float
    now_us: int


def _micros(seconds: float) -> int:
    return max(0, round(seconds * MICROS))


class Schedule:
    """The schedule scripts over one Redis client (EVALSHA; loaded again after a restart)."""

    def __init__(self, client: Redis) -> None:
        self._book = client.register_script(BOOK)
        self._slow_down = client.register_script(SLOW_DOWN)

    async def book(self, key: str, *, interval: float, ahead: bool) -> Booking:
        """Take the next slot of the schedule at `key` (`interval` seconds apart at full pace):
        however far off it is when `ahead`, else only if it is free now."""
        args = [_micros(interval), "1" if ahead else "0", round(RECOVERY_PER_SECOND * MICROS)]
        granted, wait, now = _numbers(await self._book(keys=[key], args=[*args, LINGER_MS]))
        return Booking(granted == 1, wait / MICROS, now)

    async def slow_down(self, key: str, *, interval: float, pause: float) -> Slowed:
        """The API throttled us: push the schedule on by `pause` (at least one interval) and cut
        its pace, for every replica."""
        args = [_micros(interval), _micros(pause), round(RECOVERY_PER_SECOND * MICROS)]
        cut = [round(SLOWDOWN * MICROS), round(FLOOR * MICROS), _micros(QUIET)]
        answer = await self._slow_down(keys=[key], args=[*args, LINGER_MS, *cut])
        pace, wait, now = _numbers(answer)
        return Slowed(pace / MICROS, wait / MICROS, now)


def _numbers(answer: list[int]) -> tuple[int, int, int]:
    first, second, third = answer
    return int(first), int(second), int(third)
