"""Shared fixtures: a clean environment, a controllable clock, the CDN emulator on port 0 and
the task source over it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient, RetryPolicy
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.limiter import RateLimiter
from bot.cdn.source import TaskSource
from tests.environment import settings_in
from tests.slack.fake_slack import FakeSlack

pytest_plugins = ["tests.servers.redis", "tests.servers.postgres"]

KEY_ID = "test-key"
KEY_SECRET = "test-secret"


async def wait_until(condition, *, timeout: float = 20) -> None:
    """Re-check `condition` until it holds: for state that no event announces (another
    process's, or a background task's)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees any setting the operator exported (tests.environment says which)."""
    for name in list(settings_in(os.environ)):
        monkeypatch.delenv(name)


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # Whole seconds, recent: the emulator's 3-day window is measured from here.
    return Clock(datetime.now(UTC).replace(microsecond=0))


def emulator_config(clock: Clock, **overrides: object) -> EmulatorConfig:
    settings: dict[str, object] = {
        "access_key_id": KEY_ID,
        "access_key_secret": KEY_SECRET,
        "qps": 0,
        "task_seconds": 60,
        "clock": clock,
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def emulator(clock: Clock) -> AsyncIterator[Emulator]:
    """The emulator served from the test's own event loop, limits off."""
    server = Emulator(emulator_config(clock))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def threaded_emulator(clock: Clock) -> Iterator[Emulator]:
    """The emulator in a thread of its own, for the synchronous official SDKs."""
    with Emulator(emulator_config(clock)).running() as server:
        yield server


def make_client(
    emulator: Emulator,
    clock: Clock,
    *,
    limiter: RateLimiter | None = None,
    secret: str = KEY_SECRET,
    **options: object,
) -> CdnClient:
    return CdnClient(
        endpoint=emulator.url,
        credentials=Credentials(KEY_ID, secret),
        limiter=limiter or RateLimiter(default_rate=1000, rates={}),
        retry=RetryPolicy(max_retries=3, base_delay=0.0),
        now=clock,
        **options,  # type: ignore[arg-type]
    )


def make_source(client: CdnClient, clock: Clock, *, ttl: float = 0.0) -> TaskSource:
    """The bot's TaskSource over `client`, planning at `clock` (`ttl`: how long answers are
    cached)."""
    return TaskSource(CachedReads(client, ResponseCache(ttl=ttl)), clock=clock)


@pytest.fixture
async def client(emulator: Emulator, clock: Clock) -> AsyncIterator[CdnClient]:
    async with make_client(emulator, clock) as cdn:
        yield cdn


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The local stand-in for Slack's Web API, response_url and Socket Mode."""
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()
