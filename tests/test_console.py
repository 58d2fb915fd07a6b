"""The terminal's words: an unknown word gets the closest few commands, reasons read as in Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot import console
from bot.config import Settings
from bot.core.display import REASON_LABELS
from bot.core.tasks import FailureReason, ObjectType, Status, Task, format_api_time
from bot.core.timeframe import shown
from bot.store.database import Store


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("faild", 'python -m bot query "failed"'),
        ("refrsh", "python -m bot refresh URL…"),
        ("subscrib", "/cdn subscribe (in Slack)"),
        ("zzqqxx", 'python -m bot query "since:2h"'),
    ],
)
def test_an_unknown_word_gets_the_closest_few_commands_not_the_whole_usage(word, expected):
    text = console.unknown_text(word)
    assert f"`{word}` is not a filter or command" in text
    assert expected in text
    assert console.USAGE not in text
    assert 3 <= sum(line.startswith("  ") for line in text.splitlines()) <= 3


def test_a_very_long_unknown_word_is_shortened():
    assert "x" * 100 not in console.unknown_text("x" * 3000)


@pytest.mark.parametrize("reason", list(FailureReason))
def test_failure_reasons_are_worded_as_slack_words_them(reason):
    task = Task(
        "704225667",
        "https://www.example.com/app.js",
        ObjectType.FILE,
        Status.FAILED,
        0.0,
        datetime(2026, 11, 28, tzinfo=UTC),
        description=reason.value,
    )
    assert f"({REASON_LABELS[reason]}; task 704225667)" in console.failures([task])


def test_the_terminal_keeps_a_long_paths_host():
    long = "https://img.example.com/" + "deep/" * 40 + "x.png"
    task = Task("1", long, "file", "Complete", 100, datetime(2026, 11, 28, tzinfo=UTC))
    row = console._row(task, UTC, {})
    (path,) = [cell for cell in row if "…" in cell]
    assert path.startswith("https://img.example.com/") and path.endswith("x.png")


async def test_stats_print_the_numbers_from_the_history(tmp_path, capsys):
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(url)
    for n, (ago, status) in enumerate(
        [(1, Status.COMPLETE), (2, Status.FAILED), (3, Status.COMPLETE), (30, Status.COMPLETE)]
    ):
        created = now - timedelta(hours=ago)
        reason = "Origin Timeout" if status is Status.FAILED else None
        task = Task(str(n), f"https://img.example.com/{n}", "file", status, 100, created, reason)
        running = Task(task.task_id, task.object_path, "file", Status.REFRESHING, 50, created)
        await store.archive([running], created + timedelta(minutes=1))  # seen running, then
        await store.archive([task], created + timedelta(minutes=4 + n))  # seen at its end
    await store.close()
    settings = Settings(database_url=url, history_days=30)
    clock = lambda: now  # noqa: E731
    assert await console.run_query(settings, "stats", clock=clock, print_json=False) == 0
    text = capsys.readouterr().out
    assert "CDN tasks: 2026-11-27" in text
    assert "  tasks                   3   +200% on the 24 h before (1)" in text
    assert "  failed                  1   33% of finished (+33.3 pts)" in text
    assert "time to complete  median 5 min, p90 5 min 48 s" in text
    assert "img.example.com       1" in text
    assert "why they failed: Origin timeout 1" in text
    assert await console.run_query(settings, "stats since:2d", clock=clock, print_json=True) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["current"]["total"] == 4 and numbers["before"]["total"] == 0
    assert numbers["current"]["by_status"] == {
        "Failed": 1, "Complete": 3, "Refreshing": 0, "Pending": 0
    }  # fmt: skip


async def test_the_terminal_answers_a_task_the_api_forgot_from_the_history(tmp_path, capsys):
    now = datetime.now(UTC).replace(microsecond=0)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = await Store.open(url)
    created, seen = now - timedelta(days=9), now - timedelta(days=8)
    old = Task("1234", "https://img.example.com/old.png", "file", "Complete", 100, created)
    await store.archive([old], seen)
    await store.close()
    settings = Settings(database_url=url, history_days=30)
    clock = lambda: now  # noqa: E731
    assert await console.run_query(settings, "id:1234", clock=clock, print_json=False) == 0
    text = capsys.readouterr().out
    assert f"Complete (seen {shown(seen, UTC)})" in text
    assert "1 from the bot's history" in text
    assert await console.run_query(settings, "id:1234", clock=clock, print_json=True) == 0
    (task,) = json.loads(capsys.readouterr().out)["tasks"]
    assert task["task_id"] == "1234" and task["archived_last_seen"] == format_api_time(seen)
