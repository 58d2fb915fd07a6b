"""The archiver against the emulator: the first start backfills the API's three days, new tasks
come in the next cycle, unfinished ones are read again until they end, the history answers
for tasks the API has forgotten, a stop anywhere in a backfill loses nothing, old rows are
pruned, a replica that lost the lease writes nothing, and the calls are what the README says."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from bot.archiver import SETTLE, Archiver, ArchiveReport
from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient
from bot.cdn.emulator import Emulator
from bot.cdn.emulator.faults import ApiFault
from bot.cdn.emulator.ledger import LedgerTask
from bot.core.tasks import ObjectType, Status
from bot.leader import LEASE_NAME, Leadership
from bot.store.database import Store
from tests.conftest import Clock, emulator_config, make_client, wait_until

pytestmark = pytest.mark.timeout(60)

LISTING = "DescribeRefreshTasks"
LOOKUP = "DescribeRefreshTaskById"
DAYS_3 = timedelta(days=3)


class Counting(CachedReads):
    """The bot's reads, counting calls, with something done before the `at`-th listing."""

    def __init__(self, client: CdnClient, *, at: int = 0, before=None) -> None:
        super().__init__(client, ResponseCache(ttl=0))
        self.listings = 0
        self._at, self._before = at, before

    async def describe_refresh_tasks(self, request, **options):
        self.listings += 1
        if self.listings == self._at and self._before is not None:
            self._before()
        return await super().describe_refresh_tasks(request, **options)


class Killed(BaseException):
    """The process died here (nothing after this point ran)."""


@dataclass
class World:
    emulator: Emulator
    cdn: CdnClient
    store: Store
    clock: Clock
    database: str

    def archiver(self, store: Store | None = None, reads: CachedReads | None = None, **options):
        settings = {"keep_days": 30, **options}
        return Archiver(
            store=store or self.store,
            reads=reads or Counting(self.cdn),
            clock=self.clock,
            **settings,
        )

    def calls(self, action: str) -> int:
        return len(self.emulator.calls_of(action))

    def add(self, kind: str, count: int, first: datetime, last: datetime, **options) -> list[str]:
        """`count` tasks of `kind` made evenly from `first` to `last`; their IDs, oldest first."""
        return self.add_all([spread(kind, count, first, last, **options)])[0]

    def add_all(self, groups: list[list[LedgerTask]]) -> list[list[str]]:
        """Tasks into the ledger in creation order, numbered as the API numbers them."""
        ordered = sorted(
            (t.created, g, n) for g, group in enumerate(groups) for n, t in enumerate(group)
        )
        ids: list[list[str]] = [[""] * len(group) for group in groups]
        for _, g, n in ordered:
            made = replace(groups[g][n], task_id=self.emulator.ledger.next_id())
            self.emulator.ledger.add(made)
            ids[g][n] = made.task_id
        return ids

    async def kept(self) -> dict[str, object]:
        total, rows = await self.store.archived(limit=100_000)
        assert total == len(rows)
        return {row.task.task_id: row for row in rows}


def spread(
    kind: str, count: int, first: datetime, last: datetime, *, duration: float = 60.0
) -> list[LedgerTask]:
    step = (last - first) / max(count - 1, 1)
    tail = "/" if kind == "directory" else ".js"
    return [
        LedgerTask(
            "",
            f"https://d{n % 5}.example.com/{kind}/{n}{tail}",
            kind,
            (first + step * n).replace(microsecond=0),
            duration,
        )
        for n in range(count)
    ]


@pytest.fixture
async def world(clock, tmp_path) -> AsyncIterator[World]:
    emulator = Emulator(emulator_config(clock, task_seconds=60))
    await emulator.start()
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(database)
    async with make_client(emulator, clock) as cdn:
        yield World(emulator, cdn, store, clock, database)
    await store.close()
    await emulator.stop()


def backfill_of(world: World) -> tuple[datetime, datetime]:
    """The span the API still has at the test's start, a little inside both ends."""
    now = world.clock()
    return now - DAYS_3 + timedelta(minutes=2), now - timedelta(seconds=10)


async def test_the_first_cycle_backfills_the_apis_three_days(world):
    now = world.clock()
    first, last = backfill_of(world)
    world.add("file", 20, now - timedelta(days=4), now - timedelta(days=3, hours=1))  # gone
    world.add_all(
        [
            spread("file", 450, first, last),
            spread("directory", 120, first, last),
            spread("preload", 30, first, last),
            spread("file", 3, now - timedelta(seconds=3), now),  # after the window's end
        ]
    )
    report = await world.archiver().cycle()
    assert (report.list_calls, report.lookup_calls) == (5 + 2 + 1, 0)
    assert (world.calls(LISTING), world.calls(LOOKUP)) == (8, 0)
    assert report.end == now - SETTLE and not report.failed and not report.deposed
    kept = await world.kept()
    assert len(kept) == report.listed == 600
    ledger = world.emulator.ledger
    assert set(kept) == {t.task_id for t in ledger.visible(now) if t.created <= report.end}
    for kind in ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD:
        assert await world.store.archive_mark(kind) == report.end
    # What was seen is what the API said.
    newest = max(kept.values(), key=lambda row: row.task.created)
    assert newest.task.status is Status.REFRESHING and newest.ended_at is None
    oldest = min(kept.values(), key=lambda row: row.task.created)
    # Made days ago and already done when first seen: when it ended is unknown, not "now".
    assert oldest.task.status is Status.COMPLETE and oldest.ended_at is None
    assert oldest.first_seen == oldest.last_seen == now


async def test_new_tasks_come_in_the_next_cycle_at_the_predicted_cost(world):
    now = world.clock()
    first, last = backfill_of(world)
    (slow,) = world.add_all([spread("file", 25, first + timedelta(days=2), last, duration=86_400)])
    await world.archiver().cycle()
    world.clock.advance(seconds=60)
    fresh = world.add_all(
        [
            spread("file", 230, now, world.clock() - timedelta(seconds=6), duration=1),
            spread("directory", 5, now, world.clock() - timedelta(seconds=6), duration=1),
        ]
    )
    listings, lookups = world.calls(LISTING), world.calls(LOOKUP)
    report = await world.archiver().cycle()
    # new ÷ 100 per type (one call for a type with nothing new) + unfinished ÷ 10.
    assert report.list_calls == math.ceil(230 / 100) + 1 + 1
    assert report.lookup_calls == math.ceil(25 / 10)
    assert world.calls(LISTING) - listings == report.list_calls
    assert world.calls(LOOKUP) - lookups == report.lookup_calls
    kept = await world.kept()
    assert set(fresh[0] + fresh[1] + slow) <= set(kept)
    assert all(kept[key].last_seen == world.clock() for key in slow)
    # Nothing new, nothing unfinished but the slow ones: one call a type and their re-reads.
    world.clock.advance(seconds=60)
    quiet = await world.archiver().cycle()
    assert (quiet.list_calls, quiet.listed, quiet.lookup_calls) == (3, 0, 3)


async def test_unfinished_tasks_are_read_again_until_they_end(world):
    now = world.clock()
    (ids,) = world.add_all(
        [
            spread(
                "file", 15, now - timedelta(seconds=100), now - timedelta(seconds=86), duration=600
            )
        ]
    )
    archiver = world.archiver()
    await archiver.cycle()  # listed: no need to look them up in the same cycle
    assert world.calls(LOOKUP) == 0
    world.clock.advance(seconds=60)
    second = await archiver.cycle()
    assert (second.lookup_calls, second.looked_up) == (2, 15)
    kept = await world.kept()
    assert all(
        kept[key].task.status is Status.REFRESHING and kept[key].task.progress > 0 for key in ids
    )
    world.clock.advance(seconds=600)
    third = await archiver.cycle()
    assert third.lookup_calls == 2
    kept = await world.kept()
    assert all(kept[key].task.status is Status.COMPLETE for key in ids)
    assert {kept[key].ended_at for key in ids} == {world.clock()}
    assert {kept[key].first_seen for key in ids} == {now}
    world.clock.advance(seconds=60)
    assert (await archiver.cycle()).lookup_calls == 0
    assert await world.store.unfinished_archived() == []


async def test_tasks_the_api_forgot_are_answered_from_the_history(world):
    now = world.clock()
    first, _ = backfill_of(world)
    old, stuck = world.add_all(
        [
            spread("file", 40, first, first + timedelta(hours=4)),
            spread("preload", 1, now - timedelta(hours=12), now, duration=10 * 86_400),
        ]
    )
    archiver = world.archiver()
    await archiver.cycle()
    world.clock.advance(days=2)
    await archiver.cycle()
    seen_stuck = world.clock()
    world.clock.advance(days=2)  # the API has forgotten the first day, and the stuck task
    assert (await world.cdn.describe_refresh_task_by_id(tuple(old[:10]))).tasks == ()
    report = await archiver.cycle()
    # A task older than the API's three days is not asked for again: it stays as last seen.
    assert report.lookup_calls == 0
    total, found = await world.store.archived(task_ids=old)
    assert total == 40 and {row.task.status for row in found} == {Status.COMPLETE}
    assert [row.task.task_id for row in found] == old[::-1][:20]
    (row,) = (await world.store.archived(task_ids=stuck))[1]
    assert row.task.status is Status.REFRESHING and row.last_seen == seen_stuck


async def test_after_longer_away_than_the_api_keeps_it_reads_what_is_left(world, caplog):
    now = world.clock()
    archiver = world.archiver(types=(ObjectType.FILE,))
    await archiver.cycle()
    world.clock.advance(days=4)
    (ids,) = world.add_all(
        [
            spread(
                "file", 150, now + timedelta(days=1, hours=1), world.clock() - timedelta(minutes=1)
            )
        ]
    )
    with caplog.at_level(logging.WARNING, logger="bot.archiver"):
        report = await archiver.cycle()
    assert not report.failed and report.list_calls == 2
    assert set(ids) <= set(await world.kept())
    assert "were never seen" in caplog.text


@pytest.mark.parametrize("failing", [1, 2, 4, 7])
async def test_a_backfill_stopped_by_a_failing_page_resumes_with_nothing_lost(world, failing):
    first, last = backfill_of(world)
    (ids,) = world.add_all([spread("file", 650, first, last)])  # seven pages
    fault = ApiFault(
        503, "ServiceUnavailable", "The request has failed due to a temporary failure."
    )
    reads = Counting(
        world.cdn, at=failing, before=lambda: world.emulator.script(LISTING, *[fault] * 4)
    )
    report = await world.archiver(reads=reads, types=(ObjectType.FILE,)).cycle()
    assert set(report.failed) == {"file"} and report.list_calls == failing - 1
    world.clock.advance(seconds=30)
    reopened = await Store.open(world.database)  # a new process on the same database
    try:
        again = await world.archiver(store=reopened, types=(ObjectType.FILE,)).cycle()
        total, _ = await reopened.archived()
    finally:
        await reopened.close()
    assert total == 650 and not again.failed
    # Pages 1, 7, 6, … come in that order: what is left to read is the pages not yet past
    # the mark, plus (once a page moved it) the one task of the mark's own second.
    past = max(0, failing - 2)  # pages from the oldest end kept before the failure
    oldest_kept = 50 + 100 * (past - 1) if past else 0
    left = 650 - oldest_kept + (1 if oldest_kept else 0)
    assert again.listed == left and again.list_calls == math.ceil(left / 100)
    assert set(ids) == set(await world.kept())


@pytest.mark.parametrize(
    "where", ["read 1", "read 2", "read 3", "read 7", "mark 1", "mark 2", "mark 5"]
)
async def test_a_process_killed_anywhere_in_a_backfill_loses_nothing(world, where, monkeypatch):
    first, last = backfill_of(world)
    (ids,) = world.add_all([spread("file", 650, first, last)])
    what, number = where.split()

    def kill() -> None:
        raise Killed

    reads = Counting(world.cdn, at=int(number), before=kill if what == "read" else None)
    if what == "mark":
        moves = 0
        real = world.store.set_archive_mark

        async def dying(*args, **options):
            nonlocal moves
            moves += 1
            if moves == int(number):
                raise Killed
            return await real(*args, **options)

        monkeypatch.setattr(world.store, "set_archive_mark", dying)
    with pytest.raises(Killed):
        await world.archiver(reads=reads, types=(ObjectType.FILE,)).cycle()
    reopened = await Store.open(world.database)
    try:
        again = await world.archiver(store=reopened, types=(ObjectType.FILE,)).cycle()
        kept, _ = await reopened.archived()
        mark = await reopened.archive_mark(ObjectType.FILE)
    finally:
        await reopened.close()
    assert kept == 650 and again.end == mark and again.list_calls <= 7
    assert set(ids) == set(await world.kept())


async def test_rows_older_than_history_days_are_pruned_at_most_hourly(world):
    first, last = backfill_of(world)
    world.add_all([spread("file", 30, first, last)])
    archiver = world.archiver(keep_days=4)
    assert (await archiver.cycle()).pruned == 0
    world.clock.advance(days=2)  # the oldest backfilled tasks are now over four days old
    cutoff = world.clock() - timedelta(days=4)
    before = await world.kept()
    report = await archiver.cycle()
    old = {key for key, row in before.items() if row.task.created < cutoff}
    assert report.pruned == len(old) > 0
    assert set(before) - set(await world.kept()) == old
    # Within the hour nothing is pruned, whatever has grown old since.
    sample = next(iter(before.values())).task
    gone_by_now = replace(sample, task_id="2", created=cutoff - timedelta(days=1))
    await world.store.archive([gone_by_now], world.clock())
    world.clock.advance(minutes=59)
    assert (await archiver.cycle()).pruned == 0
    assert "2" in await world.kept()
    world.clock.advance(minutes=1)
    assert (await archiver.cycle()).pruned >= 1
    assert "2" not in await world.kept()


async def test_a_replica_that_lost_the_lease_writes_nothing(world):
    first, last = backfill_of(world)
    world.add_all([spread("file", 250, first, last)])
    leadership = Leadership(world.store, holder="paused", lease=60)
    fence = await leadership.renew()
    assert fence is not None
    # Another replica took over while this one was paused; it has not noticed yet.
    await world.store.release_lease(fence)
    assert await world.store.acquire_lease(LEASE_NAME, "other", 60) is not None
    assert leadership.leading
    report = await world.archiver(leadership=leadership).cycle()
    assert report.deposed and report.list_calls == 1
    assert await world.store.archived() == (0, [])
    assert await world.store.archive_mark(ObjectType.FILE) is None


async def test_a_standby_reads_nothing_and_the_leader_runs(world):
    first, last = backfill_of(world)
    world.add_all([spread("file", 120, first, last)])
    other = await Store.open(world.database)
    leader = Leadership(world.store, holder="leader", lease=60)
    standby = Leadership(other, holder="standby", lease=60)
    assert await leader.renew() is not None and await standby.renew() is None
    leading, waiting = Counting(world.cdn), Counting(world.cdn)
    runs = [
        world.archiver(reads=leading, leadership=leader, interval=0.05),
        world.archiver(store=other, reads=waiting, leadership=standby, standby_tick=0.01),
    ]
    assert isinstance(await runs[1].cycle(), ArchiveReport) and waiting.listings == 0
    stop = asyncio.Event()
    running = [asyncio.create_task(archiver.run(stop)) for archiver in runs]
    try:
        await wait_until(lambda: leading.listings >= 4)  # the backfill: 2 + 1 + 1 pages
    finally:
        stop.set()
        await asyncio.gather(*running)
        await other.close()
    assert waiting.listings == 0
    assert len(await world.kept()) == 120


async def test_a_stopping_bot_ends_the_cycle_between_two_calls(world):
    first, last = backfill_of(world)
    (ids,) = world.add_all([spread("file", 650, first, last)])
    stop = asyncio.Event()
    reads = Counting(world.cdn, at=3, before=stop.set)
    archiver = world.archiver(reads=reads, types=(ObjectType.FILE,), leadership=None)
    await asyncio.wait_for(archiver.run(stop), timeout=10)
    assert reads.listings == 3  # pages 1, 7 and 6: the call under way was kept, no other
    assert set(await world.kept()) == set(ids[-100:] + ids[:150])
    assert await world.store.archive_mark(ObjectType.FILE) is not None
