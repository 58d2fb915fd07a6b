"""The task history on both engines: upserts that keep the first sighting and the first end,
pages in the API's order with exact totals, every filter, periods for stats, the unfinished,
pruning by age, the archiver's marks, and fenced writes refused once the lease is lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.tasks import ObjectType, Status, Task
from bot.store.database import Archived, Store
from bot.store.lease import Fence

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LONG = 60.0


def task(
    task_id: str,
    *,
    at: datetime = NOW,
    path: str = "https://a.example.com/x.js",
    kind: ObjectType | str = ObjectType.FILE,
    status: Status = Status.REFRESHING,
    progress: float = 40.0,
    description: str | None = None,
) -> Task:
    return Task(task_id, path, kind, status, progress, at, description)


def ids(found: list[Archived]) -> list[str]:
    return [archived.task.task_id for archived in found]


async def test_a_task_is_kept_as_last_seen_with_its_first_sighting_and_first_end(store):
    seen = task("15300000001")
    assert await store.archive([seen], NOW)
    later = NOW + timedelta(minutes=1)
    done = replace(seen, status=Status.FAILED, progress=0.0, description="Origin Timeout")
    assert await store.archive([done], later)
    assert await store.archive([done], later + timedelta(minutes=1))
    total, (kept,) = await store.archived()
    assert total == 1
    assert kept == Archived(done, NOW, later + timedelta(minutes=1), later)
    assert kept.task.reason is not None and kept.task.domain == "a.example.com"


async def test_an_older_sighting_changes_nothing(store):
    done = task("1", status=Status.COMPLETE, progress=100.0)
    await store.archive([done], NOW + timedelta(minutes=5))
    await store.archive([task("1")], NOW)  # a read that took long, written late
    (kept,) = (await store.archived())[1]
    assert kept.task == done and kept.last_seen == NOW + timedelta(minutes=5)
    assert kept.first_seen == NOW + timedelta(minutes=5)


async def test_a_batch_may_name_a_task_twice_and_the_last_wins(store):
    first, last = task("7", progress=10.0), task("7", progress=90.0)
    assert await store.archive([first, task("8"), last], NOW)
    total, found = await store.archived(task_ids=["7"])
    assert total == 1 and found[0].task.progress == 90.0
    assert await store.archive([], NOW)


async def test_pages_come_newest_first_with_ties_by_the_higher_id(store):
    # "10" is higher than "9" as the API counts, though not as text.
    rows = [
        task("9"),
        task("10"),
        task("8", at=NOW + timedelta(seconds=1)),
        task("11", at=NOW - timedelta(seconds=1)),
    ]
    await store.archive(rows, NOW)
    total, found = await store.archived()
    assert total == 4 and ids(found) == ["8", "10", "9", "11"]
    total, found = await store.archived(offset=1, limit=2)
    assert total == 4 and ids(found) == ["10", "9"]
    assert await store.archived(offset=4) == (4, [])


async def test_every_filter(store):
    rows = [
        task("1", at=NOW - timedelta(hours=2)),
        task(
            "2",
            at=NOW - timedelta(hours=1),
            path="https://B.example.com/y/",
            kind=ObjectType.DIRECTORY,
        ),
        task("3", at=NOW, path="https://sub.a.example.com/z.js", status=Status.FAILED, progress=0),
        task("4", at=NOW, kind="regex", path="https://a.example.com/r.*"),
        task("5", at=NOW + timedelta(hours=1), status=Status.COMPLETE, progress=100),
    ]
    await store.archive(rows, NOW)

    async def matching(**filters: object) -> list[str]:
        total, found = await store.archived(**filters, limit=100)
        assert total == len(found)
        return ids(found)

    assert await matching(start=NOW - timedelta(hours=1), end=NOW) == ["4", "3", "2"]
    assert await matching(end=NOW - timedelta(hours=1)) == ["2", "1"]
    assert await matching(object_type=ObjectType.DIRECTORY) == ["2"]
    assert await matching(object_type="regex") == ["4"]
    assert await matching(domain="a.example.com") == ["5", "4", "1"]  # exact: no subdomains
    assert await matching(domain="b.example.com") == ["2"]  # hosts are kept lower-cased
    assert await matching(status=Status.FAILED) == ["3"]
    assert await matching(object_path="https://a.example.com/x.js") == ["5", "1"]
    assert await matching(task_ids=["5", "1", "404"]) == ["5", "1"]
    assert await matching(task_ids=["5", "1"], status=Status.COMPLETE) == ["5"]
    assert await matching(domain="a.example.com", start=NOW, status=Status.REFRESHING) == ["4"]


async def test_many_task_ids_at_once(store):
    rows = [task(str(1000 + n), at=NOW + timedelta(seconds=n % 7)) for n in range(1200)]
    await store.archive(rows, NOW)
    wanted = [str(1000 + n) for n in range(0, 1200, 2)] + ["1"]
    total, found = await store.archived(task_ids=wanted, offset=10, limit=50)
    expected = sorted(
        (t for t in rows if t.task_id in set(wanted)),
        key=lambda t: (t.created, int(t.task_id)),
        reverse=True,
    )
    assert total == 600 and ids(found) == [t.task_id for t in expected[10:60]]


async def test_periods_side_by_side_share_no_task_and_come_oldest_first(store):
    hour = timedelta(hours=1)
    rows = [
        task("1", at=NOW - hour),
        task("2", at=NOW - hour / 2, path="https://b.example.com/1"),
        task("3", at=NOW, kind=ObjectType.PRELOAD),
        task("4", at=NOW + hour / 2),
    ]
    await store.archive(rows, NOW)
    assert ids(await store.archived_between(NOW - hour, NOW)) == ["1", "2"]
    assert ids(await store.archived_between(NOW, NOW + hour)) == ["3", "4"]
    assert ids(await store.archived_between(NOW - hour, NOW + hour, domain="a.example.com")) == [
        "1",
        "3",
        "4",
    ]
    preload = await store.archived_between(NOW - hour, NOW + hour, object_type=ObjectType.PRELOAD)
    assert ids(preload) == ["3"]


async def test_the_unfinished_come_oldest_first(store):
    rows = [
        task("3", at=NOW, status=Status.PENDING, progress=0),
        task("1", at=NOW - timedelta(minutes=5)),
        task("2", at=NOW - timedelta(minutes=1), status=Status.COMPLETE, progress=100),
        task("4", at=NOW - timedelta(minutes=2), status=Status.FAILED, progress=0),
    ]
    await store.archive(rows, NOW)
    assert [t.task_id for t in await store.unfinished_archived()] == ["1", "3"]


async def test_pruning_goes_by_creation_time(store):
    rows = [task(str(n), at=NOW - timedelta(days=n)) for n in range(1, 6)]
    await store.archive(rows, NOW)
    assert await store.prune_archived(NOW - timedelta(days=3)) == 2
    assert ids((await store.archived())[1]) == ["1", "2", "3"]
    assert await store.prune_archived(NOW - timedelta(days=3)) == 0


async def test_each_type_has_a_mark_of_its_own(store):
    assert await store.archive_mark(ObjectType.FILE) is None
    assert await store.set_archive_mark(ObjectType.FILE, NOW)
    assert await store.set_archive_mark(ObjectType.PRELOAD, NOW - timedelta(hours=1))
    assert await store.set_archive_mark(ObjectType.FILE, NOW + timedelta(seconds=30))
    assert await store.archive_mark(ObjectType.FILE) == NOW + timedelta(seconds=30)
    assert await store.archive_mark(ObjectType.PRELOAD) == NOW - timedelta(hours=1)
    assert await store.archive_mark(ObjectType.DIRECTORY) is None
    assert await store.high_water() is None  # the watcher's mark is another one


async def test_writes_under_a_lost_lease_write_nothing(store):
    held = await store.acquire_lease("background", "A", LONG)
    assert held is not None
    assert await store.archive([task("1")], NOW, fence=held)
    assert await store.set_archive_mark(ObjectType.FILE, NOW, fence=held)
    lost = Fence("background", "A", held.epoch - 1)
    later = NOW + timedelta(minutes=1)
    assert not await store.archive(
        [task("1", status=Status.COMPLETE, progress=100), task("2")], later, fence=lost
    )
    assert not await store.set_archive_mark(ObjectType.FILE, later, fence=lost)
    total, (kept,) = await store.archived()
    assert total == 1 and kept.task.status is Status.REFRESHING and kept.last_seen == NOW
    assert await store.archive_mark(ObjectType.FILE) == NOW


@pytest.mark.timeout(120)
async def test_a_day_of_tasks_goes_in_as_one_batch(store):
    rows = [
        task(
            str(15_300_000_000 + n),
            at=NOW - timedelta(seconds=n * 8),
            path=f"https://d{n % 20}.example.com/{n}",
        )
        for n in range(10_000)
    ]
    assert await store.archive(rows, NOW)
    assert await store.archive(rows[:5000], NOW + timedelta(minutes=1))
    total, found = await store.archived(domain="d3.example.com", limit=3)
    assert total == 500 and ids(found) == ["15300000003", "15300000023", "15300000043"]


async def test_a_reopened_store_keeps_the_history(database_url):
    first = await Store.open(database_url)
    await first.archive([task("1")], NOW)
    await first.close()
    again = await Store.open(database_url)
    try:
        assert ids((await again.archived())[1]) == ["1"]
    finally:
        await again.close()


async def test_an_end_nobody_saw_is_unknown_not_the_moment_it_was_read(store):
    made = NOW - timedelta(days=2)
    backfilled = task("1", status=Status.COMPLETE, progress=100.0, at=made)
    quick = task("2", status=Status.COMPLETE, progress=100.0, at=NOW - timedelta(minutes=1))
    running = task("3", at=made)
    await store.archive([backfilled, quick, running], NOW)
    later = NOW + timedelta(minutes=1)
    await store.archive([replace(running, status=Status.FAILED, progress=0.0)], later)
    kept = {row.task.task_id: row for row in (await store.archived())[1]}
    assert kept["1"].ended_at is None  # done long before the bot first saw it
    assert kept["2"].ended_at == NOW  # seen done a minute after it was made
    assert kept["3"].ended_at == later  # seen running, then failed
