"""The terminal's words: an unknown word gets the closest few commands, reasons read as in Slack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import console
from bot.core.display import REASON_LABELS
from bot.core.tasks import FailureReason, ObjectType, Status, Task


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
    row = console._row(task, UTC)
    (path,) = [cell for cell in row if "…" in cell]
    assert path.startswith("https://img.example.com/") and path.endswith("x.png")
