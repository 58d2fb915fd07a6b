"""Queries past the API's three days: the API's rows, then the history's, one exact page at a
time; task IDs and URLs the API has forgotten; what the history cannot answer is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.query import TaskQuery
from bot.core.tasks import ObjectType, Status, Task
from bot.errors import InvalidQuery
from bot.recall import Recall
from bot.slack import render
from bot.store.database import Store
from tests.conftest import make_client, make_source

LIVE_AGES = [timedelta(hours=h) for h in (1, 5, 9, 20, 30, 45, 60)]  # within the API's 3 days
OLD_AGES = [timedelta(days=d, hours=1) for d in range(4, 13)]  # 4 to 12 days ago


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path}/bot.db")
    yield opened
    await opened.close()


@pytest.fixture
async def world(emulator, clock, store):
    """Seven tasks the API still has, nine only the history has (as the archiver left them)."""
    now = clock()
    for n, age in enumerate(reversed(LIVE_AGES)):  # oldest first, as they were made
        emulator.ledger.create([f"https://www.example.com/live/{n}.js"], "file", now - age)
    old = [
        Task(
            task_id=str(1000 + n),
            object_path=f"https://www.example.com/old/{n}.js",
            object_type=ObjectType.FILE,
            status=Status.FAILED if n % 3 == 0 else Status.COMPLETE,
            progress=100,
            created=now - age,
            description="InternalError" if n % 3 == 0 else None,
        )
        for n, age in enumerate(reversed(OLD_AGES))
    ]
    await store.archive(old, now - timedelta(days=3, hours=2))
    async with make_client(emulator, clock) as cdn:
        recall = Recall(make_source(cdn, clock).find, store, clock=clock, kept_days=30)
        yield recall, old


async def test_pages_run_from_the_api_into_the_history_exactly(world, clock):
    recall, old = world
    since = clock() - timedelta(days=30)
    seen, archived = [], {}
    for page in range(1, 5):
        answer = await recall.find(
            TaskQuery(object_type=ObjectType.FILE, since=since, size=5, page=page)
        )
        assert answer.page.total_count == 16
        seen += [task.task_id for task in answer.page.tasks]
        archived |= answer.archived
    assert len(seen) == 16 and len(set(seen)) == 16
    newest_old_first = [task.task_id for task in sorted(old, key=lambda t: t.created, reverse=True)]
    assert seen[7:] == newest_old_first  # after the seven the API still has
    assert set(archived) == set(newest_old_first)


async def test_a_window_wholly_in_the_past_asks_only_the_history(world, clock, emulator):
    recall, _ = world
    before = len(emulator.calls_of("DescribeRefreshTasks"))
    now = clock()
    answer = await recall.find(
        TaskQuery(
            object_type=ObjectType.FILE,
            status=Status.FAILED,
            since=now - timedelta(days=12),
            until=now - timedelta(days=5),
        )
    )
    assert len(emulator.calls_of("DescribeRefreshTasks")) == before
    assert answer.page.total_count == 2  # failed 9 and 6 days ago (12 days and 1 h is older)
    assert all(task.status is Status.FAILED for task in answer.page.tasks)


async def test_task_ids_and_urls_the_api_forgot_come_from_the_history(world):
    recall, old = world
    forgotten = old[2]
    by_id = await recall.find(TaskQuery(task_ids=(forgotten.task_id,)))
    assert [task.task_id for task in by_id.page.tasks] == [forgotten.task_id]
    assert forgotten.task_id in by_id.archived
    by_url = await recall.find(TaskQuery(object_path=forgotten.object_path))
    assert [task.task_id for task in by_url.page.tasks] == [forgotten.task_id]


async def test_a_live_answer_is_left_alone(world):
    recall, _ = world
    answer = await recall.find(TaskQuery(object_type=ObjectType.FILE))
    assert answer.page.total_count == 7 and not answer.archived


@pytest.mark.parametrize(
    "query",
    [
        TaskQuery(domain="*.example.com"),
        TaskQuery(resource_group="rg-acfmyuji4b6r4"),
        TaskQuery(within=("a.example.com", "b.example.com")),
    ],
)
async def test_what_the_history_cannot_answer_exactly_is_refused(world, clock, query):
    recall, _ = world
    with pytest.raises(InvalidQuery):
        await recall.find(query.model_copy(update={"since": clock() - timedelta(days=10)}))


async def test_a_page_says_which_rows_came_from_the_history(world, clock):
    recall, _ = world
    query = TaskQuery(object_type=ObjectType.FILE, since=clock() - timedelta(days=30), size=10)
    answer = await recall.find(query)
    reply = render.task_page(answer.page, query, age=0, archived=answer.archived)
    text = str(reply.payload())
    assert "3 rows marked 🗄 from history, last seen" in text
    assert text.count("🗄") >= 4  # the note, and each of the three rows
