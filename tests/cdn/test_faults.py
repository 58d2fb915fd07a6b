"""The client under every fault the emulator can inject: an answer or a BotError, never a crash."""

from __future__ import annotations

import pytest

from bot.cdn.emulator import Emulator
from bot.cdn.emulator.chaos import FAULT_KINDS, FaultPlan
from bot.core.tasks import TaskListRequest
from bot.errors import BotError, MalformedResponse, UpstreamTimeout, UpstreamUnreachable
from tests.conftest import emulator_config, make_client


async def started(clock, plan: FaultPlan) -> Emulator:
    server = Emulator(emulator_config(clock, faults=plan))
    await server.start()
    return server


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_every_fault_kind_is_survived(clock, kind):
    plan = FaultPlan(rate=0.5, kinds=(kind,), stall_seconds=1.0, seed=7)
    server = await started(clock, plan)
    answered = failed = 0
    try:
        async with make_client(server, clock, read_timeout=0.3) as cdn:
            for _ in range(12):
                try:
                    await cdn.describe_refresh_tasks(TaskListRequest())
                    answered += 1
                except BotError:
                    failed += 1
    finally:
        await server.stop()
    assert answered + failed == 12 and answered >= 6  # retries see most calls through
    assert server.faults_injected[kind] >= 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("garbage", MalformedResponse),
        ("truncated", MalformedResponse),
        ("reset", UpstreamUnreachable),
        ("timeout", UpstreamTimeout),
    ],
)
async def test_persistent_faults_become_typed_errors(clock, kind, error):
    server = await started(clock, FaultPlan(rate=1.0, kinds=(kind,), stall_seconds=1.0))
    try:
        async with make_client(server, clock, read_timeout=0.3) as cdn:
            with pytest.raises(error):
                await cdn.describe_refresh_quota()
    finally:
        await server.stop()


def test_unknown_fault_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan(kinds=("meteor",))


async def test_latency_is_added(clock):
    import time

    server = await started(clock, FaultPlan(latency_ms=200))
    try:
        async with make_client(server, clock) as cdn:
            began = time.perf_counter()
            await cdn.describe_refresh_quota()
            assert time.perf_counter() - began >= 0.2
    finally:
        await server.stop()
