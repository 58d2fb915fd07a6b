"""The watcher end to end: the emulator's failures reach exactly the subscribed channels, once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.cdn.client import CdnClient
from bot.cdn.emulator import Emulator
from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.slack.app import slack_client
from bot.slack.notify import Notifier
from bot.store.database import Store
from bot.watcher import Watcher
from tests.conftest import Clock, emulator_config, make_client, make_source, wait_until
from tests.slack.conftest import slack_settings

pytestmark = pytest.mark.timeout(60)


@dataclass
class World:
    emulator: Emulator
    cdn: CdnClient
    slack: object
    store: Store
    clock: Clock
    database: str
    client: object

    def watcher(self, store: Store | None = None) -> Watcher:
        """A watcher as a fresh bot process would build it (same database, new everything else)."""
        notifier = Notifier(self.client, spacing=0)
        return Watcher(
            store=store or self.store,
            fetch_failures=make_source(self.cdn, self.clock).failed,
            post=notifier.post_failures,
            clock=self.clock,
            interval=60,
            overlap=timedelta(hours=1),
        )

    async def subscribe(self, channel, domain=None, kind=None):
        await self.store.subscribe(Subscription(channel, domain, kind, "U0ANA1234", self.clock()))

    async def fail(self, *paths, kind="File"):
        """Create tasks that will fail (their path holds /broken/) and let them finish."""
        made = []
        for start in range(0, len(paths), 10):  # the API takes ten domains per call at most
            batch = list(paths[start : start + 10])
            made += (await self.cdn.refresh_object_caches(batch, object_type=kind)).task_ids
        self.clock.advance(seconds=31)
        return made

    def posted(self, channel):
        return [body["text"] for body in self.slack.posts_to(channel)]


@pytest.fixture
async def world(clock, fake_slack, tmp_path) -> AsyncIterator[World]:
    emulator = Emulator(emulator_config(clock, fail_pattern="/broken/", task_seconds=30))
    await emulator.start()
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(database)
    settings = slack_settings(fake_slack)
    async with make_client(emulator, clock) as cdn, slack_client(settings) as client:
        yield World(emulator, cdn, fake_slack, store, clock, database, client)
    await store.close()
    await emulator.stop()


async def test_failures_reach_exactly_the_subscribed_channels_once(world):
    await world.subscribe("C-all")
    await world.subscribe("C-a", "a.example.com")
    await world.subscribe("C-dir", "b.example.com", ObjectType.DIRECTORY)
    await world.subscribe("C-wild", "*.example.com")
    await world.subscribe("C-none", "quiet.example.com")
    watcher = world.watcher()
    await watcher.cycle()  # sets the mark
    world.clock.advance(seconds=1)
    await world.cdn.refresh_object_caches(
        ["https://a.example.com/broken/x.js", "https://a.example.com/ok.js"]
    )
    await world.cdn.refresh_object_caches(
        ["https://b.example.com/broken/"], object_type="Directory"
    )
    await world.fail("https://c.other.org/broken/y.png")
    report = await watcher.cycle()
    assert report.failures == 3
    assert report.posted == {"C-all": 3, "C-a": 1, "C-dir": 1, "C-wild": 2}
    assert world.posted("C-all")[0].startswith(":x: 3 CDN tasks failed")
    assert "a.example.com/broken/x.js" in world.posted("C-a")[0]
    assert world.posted("C-none") == []
    world.clock.advance(seconds=60)
    again = await watcher.cycle()
    assert again.posted == {} and len(world.slack.posts) == 4


async def test_a_restarted_bot_announces_nothing_twice(world):
    await world.subscribe("C1")
    await world.watcher().cycle()
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/1")
    assert (await world.watcher().cycle()).posted == {"C1": 1}
    reopened = await Store.open(world.database)  # a new process on the same database
    try:
        world.clock.advance(seconds=60)
        assert (await world.watcher(reopened).cycle()).posted == {}
        await world.fail("https://a.example.com/broken/2")
        assert (await world.watcher(reopened).cycle()).posted == {"C1": 1}
    finally:
        await reopened.close()
    assert len(world.posted("C1")) == 2


async def test_failures_while_the_bot_was_down_are_announced_after(world):
    await world.subscribe("C1")
    await world.watcher().cycle()
    world.clock.advance(hours=5)  # the bot is down for five hours
    await world.fail("https://a.example.com/broken/early")
    world.clock.advance(hours=3)
    await world.fail("https://a.example.com/broken/late")
    report = await world.watcher().cycle()
    assert report.posted == {"C1": 2}
    assert report.window[0] < world.clock() - timedelta(hours=8)


async def test_a_new_subscription_does_not_replay_history(world):
    await world.watcher().cycle()
    await world.fail("https://a.example.com/broken/old")
    world.clock.advance(seconds=5)
    await world.subscribe("C1")
    assert (await world.watcher().cycle()).posted == {}
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/new")
    assert (await world.watcher().cycle()).posted == {"C1": 1}
    assert "broken/new" in world.posted("C1")[0]


async def test_slack_429_delays_but_does_not_drop(world):
    await world.subscribe("C1")
    watcher = world.watcher()
    await watcher.cycle()
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/1")
    world.slack.rate_limited = 3  # the first try and both of the client's retries get 429
    first = await watcher.cycle()
    assert first.posted == {} and first.owed == 1
    world.clock.advance(minutes=90)  # later than the overlap: only the held-back mark finds it
    second = await watcher.cycle()
    assert second.posted == {"C1": 1}
    assert len(world.posted("C1")) == 1


async def test_an_archived_channel_is_marked_and_left_alone(world):
    await world.subscribe("C-gone")
    await world.subscribe("C-ok")
    watcher = world.watcher()
    await watcher.cycle()
    world.clock.advance(seconds=1)
    world.slack.channel_errors["C-gone"] = "is_archived"
    await world.fail("https://a.example.com/broken/1")
    report = await watcher.cycle()
    assert report.unreachable == ["C-gone"] and report.posted == {"C-ok": 1}
    gone = await world.store.subscriptions("C-gone")
    assert gone[0].unreachable == "is_archived"
    attempts = len(world.slack.calls_of("chat.postMessage"))
    await world.fail("https://a.example.com/broken/2")
    await watcher.cycle()
    tried = [c["channel"] for c in world.slack.calls_of("chat.postMessage")[attempts:]]
    assert tried == ["C-ok"]


async def test_muted_domains_are_skipped_not_saved_up(world):
    await world.subscribe("C1")
    watcher = world.watcher()
    await watcher.cycle()
    await world.store.mute("C1", "a.example.com", world.clock() + timedelta(hours=1))
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/1", "https://b.example.com/broken/2")
    report = await watcher.cycle()
    assert report.posted == {"C1": 1} and report.muted == 1
    world.clock.advance(hours=2)  # the mute is over; the muted failure stays unannounced
    assert (await watcher.cycle()).posted == {}
    assert "b.example.com" in world.posted("C1")[0]


@pytest.mark.parametrize("subscriptions", [1, 100, 1000])
async def test_upstream_calls_do_not_grow_with_subscriptions(world, subscriptions):
    for n in range(subscriptions):
        await world.subscribe(f"C{n}", f"d{n % 20}.example.com" if n % 2 else None)
    watcher = world.watcher()
    await watcher.cycle()
    world.clock.advance(seconds=1)
    await world.fail(*[f"https://d{n}.example.com/broken/{n}" for n in range(20)])
    before = len(world.emulator.calls_of("DescribeRefreshTasks"))
    report = await watcher.cycle()
    calls = len(world.emulator.calls_of("DescribeRefreshTasks")) - before
    assert calls == 5  # one per watched type, whatever the number of subscriptions
    assert report.failures == 20 and len(report.posted) == subscriptions


async def test_run_cycles_until_stopped_and_finishes_its_cycle(world):
    await world.subscribe("C1")
    watcher = world.watcher()
    stop = asyncio.Event()
    running = asyncio.create_task(watcher.run(stop))
    await wait_until(lambda: world.emulator.calls_of("DescribeRefreshTasks"))
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert running.done() and not running.cancelled()
    assert await world.store.high_water() is not None


async def test_every_failure_is_announced_once_after_the_faults_stop(world):
    from bot.cdn.emulator.chaos import FaultPlan
    from bot.errors import BotError

    await world.subscribe("C1")
    watcher = world.watcher()
    await watcher.cycle()
    world.emulator.config.faults = FaultPlan(
        rate=0.6, kinds=("5xx", "throttle", "garbage", "truncated", "reset"), seed=3
    )
    made = []
    for n in range(6):
        made += world.emulator.ledger.create(
            [f"https://a.example.com/broken/{n}"], "file", world.clock()
        )
        world.clock.advance(seconds=40)
        with contextlib.suppress(BotError):  # the loop logs it and tries again next tick
            await watcher.cycle()
    world.emulator.config.faults = FaultPlan()
    world.clock.advance(seconds=40)
    await watcher.cycle()
    announced = (await world.store.announced(["C1"]))["C1"]
    assert {task.task_id for task in made} <= announced
    posted_ids = [tid for body in world.slack.posts_to("C1") for tid in ids_in(body)]
    assert sorted(posted_ids) == sorted(task.task_id for task in made)  # each once
    assert sum(world.emulator.faults_injected.values()) > 0


def ids_in(body) -> list[str]:
    """The task IDs a notification names (its table rows, or its single task's context line)."""
    found = []
    for block in body.get("blocks", []):
        if block["type"] == "table":
            found += [row[0]["text"] for row in block["rows"][1:]]
        if block["type"] == "context":
            text = block["elements"][0]["text"]
            if text.startswith("Task ID "):
                found.append(text.removeprefix("Task ID "))
    return found


async def test_slack_5xx_and_invalid_auth_keep_failures_owed(world, caplog):
    await world.subscribe("C1")
    watcher = world.watcher()
    await watcher.cycle()
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/1")
    world.slack.server_errors = 1
    assert (await watcher.cycle()).owed == 1
    world.slack.channel_errors["C1"] = "invalid_auth"
    assert (await watcher.cycle()).owed == 1
    assert (await world.store.subscriptions("C1"))[0].unreachable is None
    del world.slack.channel_errors["C1"]
    assert (await watcher.cycle()).posted == {"C1": 1}
    assert any("invalid_auth" in record.getMessage() for record in caplog.records)


async def test_no_subscriptions_no_upstream_calls(world):
    watcher = world.watcher()
    await world.fail("https://a.example.com/broken/unheard")
    first = await watcher.cycle()
    world.clock.advance(minutes=5)
    second = await watcher.cycle()
    assert world.emulator.calls_of("DescribeRefreshTasks") == []
    assert first.failures == second.failures == 0
    # The mark still moves, so a channel subscribing later starts from now, not from the past.
    assert await world.store.high_water() == second.window[1]
    await world.subscribe("C1")
    world.clock.advance(seconds=1)
    await world.fail("https://a.example.com/broken/heard")
    assert (await watcher.cycle()).posted == {"C1": 1}
    assert "broken/heard" in world.posted("C1")[0] and "unheard" not in world.posted("C1")[0]
