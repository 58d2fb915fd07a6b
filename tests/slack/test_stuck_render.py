"""Stuck notices and the replies in their threads: content, buttons, limits, escaping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.progress import retry_ids
from bot.core.query import decode_query
from bot.core.stuck import Ended
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.render import ActionId
from bot.slack.stuck_render import how_long, stuck_ended, stuck_notice
from tests.slack.limits import HOSTILE, assert_inert, check_message

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def running(n: int, *, minutes=42, status="Refreshing", host="img.example.com", path=None):
    return Task(
        task_id=str(15300000000 + n),
        object_path=path or f"https://{host}/assets/{n}.png",
        object_type=ObjectType.FILE,
        status=Status(status),
        progress=37 if status == "Refreshing" else 0,
        created=NOW - timedelta(minutes=minutes + n),
    )


def ended(task: Task, status: str, *, after_minutes: float = 52) -> Ended:
    final = Task(
        task_id=task.task_id,
        object_path=task.object_path,
        object_type=task.object_type,
        status=Status(status),
        progress=100 if status == "Complete" else 0,
        created=task.created,
        description="Origin Timeout" if status == "Failed" else None,
    )
    return Ended(final, task.created + timedelta(minutes=after_minutes))


def buttons(payload):
    (block,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    return {element["action_id"]: element for element in block["elements"]}


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (5, "1 min"),
        (42 * 60 + 59, "42 min"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (86400, "1 d"),
        (3 * 86400 + 4 * 3600 + 120, "3 d 4 h"),
    ],
)
def test_how_long(seconds, said):
    assert how_long(timedelta(seconds=seconds)) == said


def test_one_stuck_task_in_full_with_show_and_mute():
    task = running(0)
    payload = stuck_notice([task], now=NOW).payload()
    check_message(payload)
    assert payload["text"] == (
        ":hourglass_flowing_sand: Refreshing for 42 min: https://img.example.com/assets/0.png"
    )
    fields = [field["text"] for field in payload["blocks"][1]["fields"]]
    assert fields[0] == "*Progress*\n37%" and fields[1] == "*Type*\nfile"
    context = [element["text"] for element in payload["blocks"][2]["elements"]]
    assert context[0] == f"Task ID {task.task_id}"
    assert "reply in this thread" in context[1] and "`stuck:off`" in context[2]
    controls = buttons(payload)
    show = decode_query(controls[ActionId.SHOW_TASKS]["value"], now=NOW)
    assert controls[ActionId.SHOW_TASKS]["text"]["text"] == "Show"
    assert show.task_ids == (task.task_id,) and show.status is None  # as it is when clicked
    assert controls[ActionId.MUTE]["value"] == "img.example.com"


def test_a_pending_task_says_pending():
    payload = stuck_notice([running(0, minutes=35, status="Pending")], now=NOW).payload()
    assert payload["text"].startswith(":hourglass_flowing_sand: Pending for 35 min: ")


def test_several_stuck_tasks_as_one_table_longest_first():
    tasks = [running(n, host=f"h{n % 2}.example.com") for n in range(3)]
    tasks.append(running(3, status="Pending"))
    payload = stuck_notice(tasks, now=NOW).payload()
    check_message(payload)
    assert payload["text"].startswith(
        ":hourglass_flowing_sand: 4 CDN tasks unfinished for 42 min to 45 min on "
    )
    assert "3 Refreshing · 1 Pending" in payload["text"]
    (table,) = [b for b in payload["blocks"] if b["type"] == "table"]
    assert [row[0]["text"] for row in table["rows"][1:]] == [
        t.task_id for t in reversed(tasks)
    ]  # the longest unfinished first
    show = decode_query(buttons(payload)[ActionId.SHOW_TASKS]["value"], now=NOW)
    assert set(show.task_ids) == {t.task_id for t in tasks}
    assert buttons(payload)[ActionId.MUTE]["type"] == "static_select"


def test_a_big_batch_stays_within_slacks_limits():
    tasks = [running(n, path=f"https://img.example.com/{'x' * 900}/{n}") for n in range(400)]
    payload = stuck_notice(tasks, now=NOW).payload()
    check_message(payload)
    show = decode_query(buttons(payload)[ActionId.SHOW_TASKS]["value"], now=NOW)
    assert 0 < len(show.task_ids) <= 100
    notes = " ".join(
        element["text"]
        for block in payload["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    )
    assert "Showing the oldest 25; *Show* lists the newest 100." in notes


def test_a_completed_task_in_the_thread():
    payload = stuck_ended([ended(running(0), "Complete")], unfinished=0).payload()
    check_message(payload)
    assert payload["text"] == (
        ":white_check_mark: Completed after 52 min: https://img.example.com/assets/0.png"
    )
    assert not [b for b in payload["blocks"] if b["type"] == "actions"]


def test_a_failed_task_in_the_thread_with_what_to_do_and_retry():
    end = ended(running(0), "Failed", after_minutes=65)
    payload = stuck_ended([end], unfinished=2).payload()
    check_message(payload)
    assert payload["text"] == (
        ":x: Failed after 1 h 5 min (Origin timeout): https://img.example.com/assets/0.png"
    )
    assert payload["blocks"][1]["text"]["text"].startswith("*What to do:* make sure the origin")
    context = [element["text"] for element in payload["blocks"][2]["elements"]]
    assert context == [f"Task ID {end.task.task_id}", "2 others still unfinished."]
    retry = buttons(payload)[ActionId.RETRY_TASKS]
    assert retry["text"]["text"] == "Retry" and retry_ids(retry["value"]) == (end.task.task_id,)


def test_several_ends_at_once():
    ends = [ended(running(n), "Complete") for n in range(2)]
    ends += [ended(running(n), "Failed") for n in range(2, 20)]
    payload = stuck_ended(ends, unfinished=0).payload()
    check_message(payload)
    assert payload["text"] == ":white_check_mark: 2 completed · :x: 18 failed · all have ended."
    section = payload["blocks"][0]["text"]["text"]
    assert section.count("\n") == 16 and "…and 5 more" in section
    assert "*What to do:*" in payload["blocks"][1]["text"]["text"]
    retry = buttons(payload)[ActionId.RETRY_TASKS]
    assert retry["text"]["text"] == "Retry all failed" and len(retry_ids(retry["value"])) == 18


def test_a_prefetch_is_prefetched():
    task = Task("1", "https://a.example.com/x", ObjectType.PRELOAD, Status.COMPLETE, 100, NOW)
    payload = stuck_ended([Ended(task, NOW + timedelta(hours=2))], unfinished=0).payload()
    assert payload["text"].startswith(":white_check_mark: Prefetched after 2 h: ")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_nothing_from_the_api_can_ping_or_link(hostile):
    task = running(0, path=f"https://img.example.com/{hostile}", host=hostile)
    assert_inert(stuck_notice([task], now=NOW).payload())
    assert_inert(stuck_notice([task, running(1, path=hostile)], now=NOW).payload())
    assert_inert(stuck_ended([ended(task, "Failed")], unfinished=1).payload())
    ends = [ended(task, "Failed"), ended(running(1, path=hostile), "Complete")]
    assert_inert(stuck_ended(ends, unfinished=0).payload())
