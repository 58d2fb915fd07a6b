"""The demo history: the examples in `/cdn help` and the README find tasks in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cdn.emulator.demo import FIRST_ID, LAST_ID, history_ids
from bot.cdn.source import open_task_source
from bot.config import Settings
from bot.core.query import TaskQuery, parse_query
from bot.recall import Recall
from bot.slack.help import TOPICS
from bot.store.database import Store

README = Path(__file__).resolve().parents[3] / "README.md"


def help_examples() -> list[str]:
    """Every `/cdn …` task query the help shows, without the `/cdn `."""
    found = re.findall(r"`/cdn ([^`]+)`", "\n".join(body for _, body in TOPICS.values()))
    return [text for text in found if "refresh" not in text and "prefetch" not in text]


def readme_examples() -> list[str]:
    return re.findall(r'python -m bot query "([^"<]+)"', README.read_text(encoding="utf-8"))


def test_there_are_examples_to_check():
    assert "task 704225667,704222904" in help_examples()
    assert "www.example.com type:dir size:5 page:2" in readme_examples()


@pytest.mark.parametrize("count", [1, 2, 400, 5000])
def test_history_ids_increase_and_include_the_help_s_ids(count):
    ids = [int(task_id) for task_id in history_ids(count)]
    assert ids == sorted(set(ids)) and len(ids) == count
    assert ids[0] == FIRST_ID and (count == 1 or LAST_ID in ids)


async def test_every_example_finds_tasks_in_the_demo_history(tmp_path, clock):
    settings = Settings(alibaba_cloud_config_file=tmp_path / "none.json")
    store = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")  # the history, still empty
    kept = settings.history_days
    try:
        async with open_task_source(settings, clock=clock) as source:
            recall = Recall(source.find, store, clock=clock, kept_days=kept)
            for text in [*help_examples(), *readme_examples()]:
                command = parse_query(text, now=clock(), tz=clock().tzinfo, kept_days=kept)
                if not isinstance(command, TaskQuery):
                    continue  # subscriptions, stats and help have nothing to find
                answer = await recall.find(command)
                assert answer.page.tasks, text
    finally:
        await store.close()
