"""The emulator's task IDs: increasing, and past an earlier run's after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cdn.emulator.demo import seed_history
from bot.cdn.emulator.ledger import Ledger

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def ids(tasks) -> list[int]:
    return [int(task.task_id) for task in tasks]


def test_ids_increase_within_a_run_even_at_one_instant():
    ledger = Ledger()
    made = ids(ledger.create([f"https://a.example.com/{n}" for n in range(50)], "file", NOW))
    made += ids(ledger.create(["https://a.example.com/late"], "file", NOW))
    assert made == sorted(set(made))


def test_a_restarted_run_does_not_reuse_an_earlier_run_s_ids():
    earlier = Ledger()
    # A busy earlier run: a whole day's URL quota in one go, then a task a minute later.
    paths = [f"https://a.example.com/{n}" for n in range(10_000)]
    made = ids(earlier.create(paths, "file", NOW))
    made += ids(earlier.create(["https://a.example.com/x"], "file", NOW + timedelta(minutes=1)))
    restarted = Ledger()
    again = ids(restarted.create(["https://a.example.com/y"], "file", NOW + timedelta(minutes=2)))
    assert again[0] > max(made)


def test_the_demo_history_numbers_below_the_tasks_made_afterwards():
    ledger = Ledger()
    seed_history(ledger, 400, now=NOW)
    (made,) = ids(ledger.create(["https://a.example.com/z"], "file", NOW))
    assert made > max(ids(ledger.visible(NOW)[1:]))


def test_without_a_time_ids_still_increase():
    ledger = Ledger()
    assert int(ledger.next_id()) < int(ledger.next_id())
