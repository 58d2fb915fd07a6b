"""Losing Redis and getting it back: the replica keeps answering at its share of each rate,
says so once each way, shows it in its status, and never shows the URL's password."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
import redis

from bot.cdn.shared.keys import KeySpace
from bot.cdn.shared.limiter import SharedLimiter
from bot.cdn.shared.link import RedisLink
from tests.cdn.shared.conftest import NOW
from tests.conftest import KEY_ID, wait_until
from tests.servers.ports import free_port
from tests.servers.redis import running_redis

KEYS = KeySpace.of("test", KEY_ID)


def link_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.cdn.shared.link"]


async def test_without_redis_a_replica_answers_at_its_share_and_says_so_once(nowhere, caplog):
    limiter = SharedLimiter(nowhere, KEYS, {"A": 30}, replicas=3)
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            await limiter.acquire("A")
        await limiter.acquire("B")  # every action, not only the one that found Redis gone
    assert limiter.rate("A") == 10 and limiter.rate("B") == pytest.approx(10 / 3)
    assert nowhere.status() == {"redis": "unreachable", "since": "2026-11-28T09:30:00+00:00"}
    assert len(link_warnings(caplog)) == 1
    await limiter.throttled("A")  # throttling slows the in-process share down too
    assert limiter.rate("A") == pytest.approx(5, rel=0.01)


async def test_a_replica_shares_again_when_redis_returns_and_falls_back_when_it_goes(caplog):
    port = free_port()
    link = RedisLink.from_url(f"redis://127.0.0.1:{port}/0", now=lambda: NOW, retry_every=0.05)
    limiter = SharedLimiter(link, KEYS, {"A": 30}, replicas=3)
    try:
        with caplog.at_level(logging.WARNING):
            assert not await link.check()
            await limiter.acquire("A")
            with running_redis(port):
                await wait_until(lambda: link.up)
                assert link.status() == {"redis": "ok"} and limiter.rate("A") == 24  # 80 % of 30
                await limiter.acquire("A")
                assert await link.client.exists(KEYS.schedule("A"))  # booked in Redis
            await limiter.acquire("A")  # the server is gone: the pooled connection fails
            assert link.status()["redis"] == "unreachable" and limiter.rate("A") == 10
        gone, back, gone_again = link_warnings(caplog)
        assert "unreachable" in gone and "answers again" in back and "unreachable" in gone_again
    finally:
        await link.aclose()


async def test_the_password_in_the_url_is_never_logged(caplog):
    link = RedisLink.from_url(
        f"redis://cdnbot:s3cret-pw@127.0.0.1:{free_port()}/2", now=lambda: NOW
    )
    with caplog.at_level(logging.WARNING):
        await link.check()
    await link.aclose()
    (warning,) = link_warnings(caplog)
    assert "s3cret-pw" not in warning and "s3cret-pw" not in link.where()
    assert link.where().endswith("/2")


async def test_an_acl_user_signs_in_and_may_run_the_scripts(redis_url):
    admin = redis.asyncio.Redis.from_url(redis_url)
    await admin.acl_setuser("cdnbot", enabled=True, passwords=["+pw-1"], keys=["test:*"],
                            commands=["+@all"])  # fmt: skip
    address = urlsplit(redis_url)
    link = RedisLink.from_url(f"redis://cdnbot:pw-1@{address.netloc}/0", now=lambda: NOW)
    try:
        assert await link.check()
        await SharedLimiter(link, KEYS, {"A": 30}, replicas=3).acquire("A")
        assert link.up
    finally:
        await link.aclose()
        await admin.acl_deluser("cdnbot")
        await admin.aclose()


async def test_a_rediss_url_speaks_tls():
    link = RedisLink.from_url("rediss://cdnbot:pw@redis.example.com:6380/0", now=lambda: NOW)
    assert link.where() == "rediss://redis.example.com:6380/0"
    await link.aclose()
