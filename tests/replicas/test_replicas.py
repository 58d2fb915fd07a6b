"""Three real bot processes on one Redis and one database (PostgreSQL, or a SQLite file on this
machine): one cache, one API budget, one store, one watcher — and a leader killed mid-run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.server import Call
from tests.conftest import wait_until
from tests.replicas.harness import KEY, SECRET, busiest_second, fail_one, fleet, replica_env
from tests.slack.fake_slack import APP_TOKEN, FakeSlack

pytestmark = pytest.mark.timeout(240)

QPS = 10  # the account's DescribeRefreshTasks rate at the emulator


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path}/shared.db"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    stand_in = FakeSlack()
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        access_key_id=KEY, access_key_secret=SECRET, qps=QPS, task_seconds=0.2,
        fail_pattern="/broken/", seed=300,
    )  # fmt: skip
    served = Emulator(config)
    await served.start()
    yield served
    await served.stop()


def listings(emulator: Emulator, **params: str) -> list[Call]:
    """The DescribeRefreshTasks calls whose parameters include `params`."""
    return [
        call
        for call in emulator.calls_of("DescribeRefreshTasks")
        if all(call.params.get(name) == value for name, value in params.items())
    ]


def mentions(body: dict[str, Any], text: str) -> bool:
    return text in json.dumps(body)


async def test_replicas_share_cache_budget_store_and_one_watcher(
    database_url: str, redis_url: str, slack: FakeSlack, emulator: Emulator
) -> None:
    env = replica_env(
        slack=slack, endpoint=emulator.url, database_url=database_url, redis_url=redis_url,
        WATCH_INTERVAL="1", LEADER_LEASE="3", CACHE_TTL="60", CDN_QPS=str(QPS),
    )  # fmt: skip
    async with fleet(3, slack, env) as crew:
        first, second, third = crew.replicas

        # One cache: the same query on each replica reaches the API once.
        await crew.command(first, "type:file")
        assert len(listings(emulator, ObjectType="file")) == 1
        await crew.command(second, "type:file", user="U0BEN5678")
        await crew.command(third, "type:file", user="U0CAT9012")
        assert len(listings(emulator, ObjectType="file")) == 1
        # ... and the same query at the same moment on all three coalesces into one call.
        await asyncio.gather(
            *(
                crew.command(replica, "type:directory", user=f"U0DIR{n:04d}")
                for n in range(9)
                for replica in [crew.replicas[n % 3]]
            )
        )
        assert len(listings(emulator, ObjectType="directory")) == 1

        # One budget: a burst of distinct queries over all three stays within the account's
        # rate in every second, as the API counts it.
        before = len(emulator.calls_of("DescribeRefreshTasks"))
        await asyncio.gather(
            *(
                crew.command(crew.replicas[n % 3], f"type:file page:{n}", user=f"U0PAGE{n:03d}")
                for n in range(2, 47)
            )
        )
        burst = emulator.calls_of("DescribeRefreshTasks")[before:]
        assert len(burst) >= 45
        assert not [call for call in burst if call.code.startswith("Throttling")]
        assert busiest_second(burst) <= QPS

        # One store: a subscription made on one replica is what the others list.
        await crew.command(first, "subscribe")
        listed = await crew.command(third, "subscriptions")
        assert mentions(listed, "every domain"), listed

        # One watcher: a failure is announced once, however many replicas watch.
        await fail_one(emulator, "https://www.example.com/broken/one.js")
        await slack.wait_for(
            lambda: [b for b in slack.posts_to("C1") if mentions(b, "/broken/one.js")], timeout=30
        )
        scans = len(listings(emulator, Status="Failed"))
        await wait_until(lambda: len(listings(emulator, Status="Failed")) >= scans + 6)
        assert len([b for b in slack.posts_to("C1") if mentions(b, "/broken/one.js")]) == 1

        # The leader dies without a word; a survivor takes over and the next failure is
        # announced once, and the first one not again.
        leader = await crew.leader()
        leader.kill()
        await fail_one(emulator, "https://www.example.com/broken/two.js")
        await slack.wait_for(
            lambda: [b for b in slack.posts_to("C1") if mentions(b, "/broken/two.js")], timeout=60
        )
        successor = await crew.leader()
        assert successor is not leader
        scans = len(listings(emulator, Status="Failed"))
        await wait_until(lambda: len(listings(emulator, Status="Failed")) >= scans + 6)
        posts = slack.posts_to("C1")
        assert len([b for b in posts if mentions(b, "/broken/one.js")]) == 1
        assert len([b for b in posts if mentions(b, "/broken/two.js")]) == 1


async def test_socket_mode_replicas_share_the_store_and_one_watcher(
    redis_url: str, slack: FakeSlack, emulator: Emulator, tmp_path
) -> None:
    # Slack hands each event to one of the app's open connections: any replica may get it.
    env = replica_env(
        slack=slack, endpoint=emulator.url, database_url=f"sqlite:///{tmp_path}/shared.db",
        redis_url=redis_url, SLACK_APP_TOKEN=APP_TOKEN, WATCH_INTERVAL="1", LEADER_LEASE="3",
    )  # fmt: skip
    async with fleet(2, slack, env) as crew:
        await slack.wait_for(lambda: slack.sockets >= 2)
        await crew.over_socket(0, "subscribe")
        listed = await crew.over_socket(1, "subscriptions")
        assert mentions(listed, "every domain"), listed
        await crew.leader()  # exactly one of the two
        await fail_one(emulator, "https://www.example.com/broken/socket.js")
        await slack.wait_for(
            lambda: [b for b in slack.posts_to("C1") if mentions(b, "/broken/socket.js")],
            timeout=30,
        )
        scans = len(listings(emulator, Status="Failed"))
        await wait_until(lambda: len(listings(emulator, Status="Failed")) >= scans + 6)
        assert len([b for b in slack.posts_to("C1") if mentions(b, "/broken/socket.js")]) == 1
