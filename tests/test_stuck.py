"""Stuck-task alerts end to end: the emulator's slow tasks, the archiver's history and the
watcher's cycle reach exactly the channels that want them, once, and their ends are told in the
notice's thread (never as a second alert there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.archiver import Archiver
from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient
from bot.cdn.emulator import Emulator
from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.slack.app import slack_client
from bot.slack.notify import Notifier
from bot.store.database import Store
from bot.stuck import StuckAlerts
from bot.watcher import CycleReport, Watcher
from tests.conftest import Clock, emulator_config, make_client, make_source
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.limits import assert_inert, check_message

pytestmark = pytest.mark.timeout(60)

STUCK_AFTER = timedelta(minutes=30)
NEVER = 24 * 60  # minutes: a task that does not end within any test


@dataclass
class World:
    emulator: Emulator
    cdn: CdnClient
    slack: FakeSlack
    store: Store
    clock: Clock
    database: str
    client: object
    scopes: dict[str, list[str]]

    def watcher(self, store: Store | None = None) -> Watcher:
        """A watcher as a fresh bot process would build it (same database, new everything else)."""
        notifier = Notifier(self.client, spacing=0)
        alerts = StuckAlerts(
            after=STUCK_AFTER,
            post=notifier.post_stuck,
            post_ended=notifier.post_ended,
            keep=timedelta(days=30),
        )
        return Watcher(
            store=store or self.store,
            fetch_failures=make_source(self.cdn, self.clock).failed,
            post=notifier.post_failures,
            clock=self.clock,
            interval=60,
            overlap=timedelta(hours=1),
            scopes=self.scopes,
            stuck=alerts,
        )

    def archiver(self, store: Store | None = None) -> Archiver:
        reads = CachedReads(self.cdn, ResponseCache(ttl=0))
        return Archiver(store=store or self.store, reads=reads, clock=self.clock, keep_days=30)

    async def cycle(self, *, minutes: float = 0, store: Store | None = None) -> CycleReport:
        """Let `minutes` pass, then one archiver cycle and one watcher cycle, as the leader
        runs them; what the watcher did."""
        self.clock.advance(minutes=minutes)
        await self.archiver(store).cycle()
        return await self.watcher(store).cycle()

    async def subscribe(self, channel, domain=None, *, stuck=True):
        subscription = Subscription(channel, domain, None, "U0ANA1234", self.clock(), stuck=stuck)
        await self.store.subscribe(subscription)

    async def slow(self, *paths: str, minutes: float = NEVER) -> list[str]:
        """Submit tasks that take `minutes` to end (failing when their path holds /broken/)."""
        ledger = self.emulator.ledger
        usual, ledger.task_seconds = ledger.task_seconds, minutes * 60
        try:
            return (await self.cdn.refresh_object_caches(list(paths))).task_ids
        finally:
            ledger.task_seconds = usual

    def posts(self, channel: str) -> list[dict]:
        return self.slack.posts_to(channel)


@pytest.fixture
async def world(clock, fake_slack, tmp_path) -> AsyncIterator[World]:
    emulator = Emulator(emulator_config(clock, fail_pattern="/broken/", task_seconds=30))
    await emulator.start()
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(database)
    async with make_client(emulator, clock) as cdn, slack_client(slack_settings(fake_slack)) as c:
        yield World(emulator, cdn, fake_slack, store, clock, database, c, {})
    await store.close()
    await emulator.stop()


async def started(world: World) -> None:
    """The bot has run once: the watcher's mark is set, the history backfilled."""
    await world.cycle()
    world.clock.advance(seconds=1)


async def test_a_task_that_never_finishes_is_announced_once_to_each_channel_that_wants_it(world):
    await world.subscribe("C-all")
    await world.subscribe("C-a", "a.example.com")
    await world.subscribe("C-b", "b.example.com")
    await world.subscribe("C-off", stuck=False)
    await started(world)
    (task_id,) = await world.slow("https://a.example.com/slow.js")
    assert (await world.cycle(minutes=10)).stuck == {}
    lookups = len(world.emulator.calls_of("DescribeRefreshTaskById"))
    listings = len(world.emulator.calls_of("DescribeRefreshTasks"))
    world.clock.advance(minutes=25)
    report = await world.watcher().cycle()
    assert report.stuck == {"C-all": 1, "C-a": 1}
    # Nothing upstream beyond the failure scan's one listing per type: the history had it.
    assert len(world.emulator.calls_of("DescribeRefreshTaskById")) == lookups
    assert len(world.emulator.calls_of("DescribeRefreshTasks")) - listings == 5
    (notice,) = world.posts("C-a")
    check_message(notice)
    assert_inert(notice)
    assert notice["text"] == (
        ":hourglass_flowing_sand: Pending for 35 min: https://a.example.com/slow.js"
    )  # a tenth of the emulator's task time is spent queued
    assert f"Task ID {task_id}" in str(notice["blocks"])
    assert "thread_ts" not in notice and notice["unfurl_links"] is False
    for minutes in (1, 60, 600):
        again = await world.cycle(minutes=minutes)
        assert again.stuck == {} and again.ended == {}
    reopened = await Store.open(world.database)  # a new process on the same database
    try:
        assert (await world.cycle(minutes=5, store=reopened)).stuck == {}
    finally:
        await reopened.close()
    assert [len(world.posts(c)) for c in ("C-all", "C-a", "C-b", "C-off")] == [1, 1, 0, 0]


async def test_its_end_is_told_once_in_the_notices_thread_even_after_a_restart(world):
    await world.subscribe("C1")
    await started(world)
    await world.slow("https://a.example.com/slow.js", minutes=50)
    assert (await world.cycle(minutes=35)).stuck == {"C1": 1}
    (notice,) = world.posts("C1")
    reopened = await Store.open(world.database)
    try:
        report = await world.cycle(minutes=20, store=reopened)
        assert report.ended == {"C1": 1} and report.stuck == {} and report.posted == {}
        for _ in range(3):
            assert (await world.cycle(minutes=10, store=reopened)).ended == {}
    finally:
        await reopened.close()
    notice_again, reply = world.posts("C1")
    assert notice_again == notice
    check_message(reply)
    assert reply["thread_ts"] == notice["_ts"]
    assert reply["text"] == (
        ":white_check_mark: Completed after 55 min: https://a.example.com/slow.js"
    )


@pytest.mark.parametrize("history_first", [True, False])
async def test_a_stuck_task_that_fails_is_told_in_its_thread_not_as_a_new_alert(
    world, history_first
):
    await world.subscribe("C-stuck")
    await world.subscribe("C-failures", stuck=False)
    await started(world)
    (task_id,) = await world.slow("https://a.example.com/broken/slow.js", minutes=40)
    assert (await world.cycle(minutes=35)).stuck == {"C-stuck": 1}
    world.clock.advance(minutes=10)
    if history_first:
        await world.archiver().cycle()
    # Else the history still says Refreshing: the failure scan's fresh answer is enough.
    report = await world.watcher().cycle()
    assert report.posted == {"C-failures": 1}  # a channel that was never told it was stuck
    assert report.ended == {"C-stuck": 1}
    notice, reply = world.posts("C-stuck")
    assert reply["thread_ts"] == notice["_ts"]
    assert reply["text"].startswith(":x: Failed after 4")
    assert "broken/slow.js" in reply["text"]
    retry = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]
    assert retry["value"] == task_id
    for minutes in (1, 30):
        later = await world.cycle(minutes=minutes)
        assert later.posted == {} and later.ended == {} and later.stuck == {}
    assert len(world.posts("C-stuck")) == 2 and len(world.posts("C-failures")) == 1
    assert (await world.store.announced(["C-stuck"]))["C-stuck"] == {task_id}


async def test_tasks_stuck_together_share_one_notice_and_end_in_its_thread(world):
    await world.subscribe("C1")
    await started(world)
    first = await world.slow("https://a.example.com/one.js", minutes=40)
    second = await world.slow("https://b.example.com/two.js", minutes=90)
    assert (await world.cycle(minutes=35)).stuck == {"C1": 2}
    (notice,) = world.posts("C1")
    assert notice["text"].startswith(":hourglass_flowing_sand: 2 CDN tasks unfinished for 35 min")
    assert (await world.cycle(minutes=10)).ended == {"C1": 1}
    assert (await world.cycle(minutes=10)).ended == {}
    assert (await world.cycle(minutes=40)).ended == {"C1": 1}
    _, one, two = world.posts("C1")
    assert one["thread_ts"] == two["thread_ts"] == notice["_ts"]
    assert "one.js" in one["text"] and "1 other still unfinished." in str(one["blocks"])
    assert "two.js" in two["text"] and first != second


async def test_muted_domains_hear_nothing_then_or_later(world):
    await world.subscribe("C1")
    await world.subscribe("C2")
    await started(world)
    await world.store.mute("C1", "a.example.com", world.clock() + timedelta(hours=1))
    await world.slow("https://a.example.com/slow.js")
    report = await world.cycle(minutes=35)
    assert report.stuck == {"C2": 1} and report.stuck_muted == 1
    assert (await world.cycle(minutes=120)).stuck == {}  # the mute is over; not saved up
    assert world.posts("C1") == []


async def test_a_channel_limited_to_other_domains_hears_nothing(world):
    world.scopes["C-scoped"] = ["b.example.com"]
    await world.subscribe("C-scoped")
    await world.subscribe("C-open")
    await started(world)
    await world.slow("https://a.example.com/slow.js", "https://b.example.com/slow.js")
    report = await world.cycle(minutes=35)
    assert report.stuck == {"C-scoped": 1, "C-open": 2}
    assert "b.example.com" in world.posts("C-scoped")[0]["text"]


async def test_a_subscription_made_after_the_task_does_not_hear_of_it(world):
    await started(world)
    await world.slow("https://a.example.com/old.js")
    world.clock.advance(minutes=1)
    await world.subscribe("C1")
    assert (await world.cycle(minutes=35)).stuck == {}
    await world.slow("https://a.example.com/new.js")
    assert (await world.cycle(minutes=35)).stuck == {"C1": 1}
    (notice,) = world.posts("C1")
    assert "new.js" in notice["text"]


async def test_a_channel_that_refuses_posts_is_marked_and_left_alone(world):
    await world.subscribe("C-gone")
    await world.subscribe("C-ok")
    await started(world)
    world.slack.channel_errors["C-gone"] = "is_archived"
    await world.slow("https://a.example.com/slow.js")
    report = await world.cycle(minutes=35)
    assert report.unreachable == ["C-gone"] and report.stuck == {"C-ok": 1}
    assert (await world.store.subscriptions("C-gone"))[0].unreachable == "is_archived"
    tries = len(world.slack.calls_of("chat.postMessage"))
    await world.slow("https://a.example.com/slow-2.js")
    assert (await world.cycle(minutes=35)).stuck == {"C-ok": 1}
    tried = [c["channel"] for c in world.slack.calls_of("chat.postMessage")[tries:]]
    assert tried == ["C-ok"]


async def test_a_thread_that_became_unreachable_is_given_up(world):
    await world.subscribe("C1")
    await started(world)
    await world.slow("https://a.example.com/slow.js", minutes=40)
    await world.cycle(minutes=35)
    world.slack.channel_errors["C1"] = "channel_not_found"
    report = await world.cycle(minutes=10)
    assert report.unreachable == ["C1"] and report.ended == {}
    assert await world.store.stuck_notices() == []  # nothing more can be said there
    tries = len(world.slack.calls_of("chat.postMessage"))
    await world.cycle(minutes=10)
    assert len(world.slack.calls_of("chat.postMessage")) == tries


async def test_slack_failing_for_a_moment_delays_the_notice_and_the_end(world):
    await world.subscribe("C1")
    await started(world)
    await world.slow("https://a.example.com/slow.js", minutes=40)
    world.slack.server_errors = 1
    assert (await world.cycle(minutes=35)).stuck == {}
    assert (await world.cycle(minutes=1)).stuck == {"C1": 1}
    world.slack.rate_limited = 3  # the first try and both of the client's retries get 429
    assert (await world.cycle(minutes=10)).ended == {}
    assert (await world.cycle(minutes=1)).ended == {"C1": 1}
    notice, reply = world.posts("C1")
    assert notice["text"].startswith(":hourglass_flowing_sand: Refreshing for 36 min")
    assert reply["thread_ts"] == notice["_ts"]


async def test_a_prefetch_and_a_directory_are_watched_too(world):
    await world.subscribe("C1")
    await started(world)
    ledger = world.emulator.ledger
    ledger.task_seconds = NEVER * 60
    await world.cdn.push_object_cache(["https://a.example.com/big.bin"])
    await world.cdn.refresh_object_caches(["https://a.example.com/dir/"], object_type="Directory")
    report = await world.cycle(minutes=35)
    assert report.stuck == {"C1": 2}
    (notice,) = world.posts("C1")
    assert notice["text"].startswith(":hourglass_flowing_sand: 2 CDN tasks unfinished")
    assert ObjectType.PRELOAD.value in str(notice["blocks"])
