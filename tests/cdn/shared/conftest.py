"""Replicas' connections to the test's Redis, and one to a port nobody listens on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cdn.shared.link import RedisLink
from tests.servers.ports import free_port

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.fixture
async def links(redis_url):
    """Three replicas' connections to one Redis."""
    opened = [RedisLink.from_url(redis_url, now=lambda: datetime.now(UTC)) for _ in range(3)]
    yield opened
    for link in opened:
        await link.aclose()


@pytest.fixture
async def nowhere():
    """A link to a port nobody listens on, whose clock says NOW."""
    link = RedisLink.from_url(f"redis://127.0.0.1:{free_port()}/0", now=lambda: NOW)
    yield link
    await link.aclose()
