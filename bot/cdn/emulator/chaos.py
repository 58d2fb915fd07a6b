"""Faults the emulator can inject, for proving the bot survives a flaky API.

Each request meets a fault with probability `rate`; the kind is drawn from `kinds`. Seeded, so a
run can be repeated exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field

from aiohttp import web

FAULT_KINDS = ("5xx", "throttle", "timeout", "garbage", "truncated", "reset")


@dataclass
class FaultPlan:
    """How often, and how, requests go wrong."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency_ms: float = 0.0  # added to every request, faulty or not
    stall_seconds: float = 15.0  # how long a "timeout" keeps the caller waiting
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """The fault for the next request, if it gets one."""
        if self.rate <= 0 or not self.kinds or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"RequestId": "FAULT", "HostId": "cdn.aliyuncs.com", "Code": code, "Message": message}
    return web.json_response(body, status=status)


async def injected(kind: str, request: web.Request, plan: FaultPlan) -> web.StreamResponse | None:
    """The answer a fault gives instead of the real one; None for a stall (then answer late)."""
    if kind == "5xx":
        return _error(
            503, "ServiceUnavailable", "The request has failed due to a temporary failure."
        )
    if kind == "throttle":
        return _error(400, "Throttling.User", "Request was denied due to user flow control.")
    if kind == "garbage":
        return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>")
    if kind == "truncated":
        whole = json.dumps({"RequestId": "FAULT", "Tasks": {"CDNTask": [{"TaskId": "1"}]}})
        return web.Response(body=whole[: len(whole) // 2].encode(), content_type="application/json")
    if kind == "reset":
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    await asyncio.sleep(plan.stall_seconds)  # "timeout": the caller gives up first
    return None
