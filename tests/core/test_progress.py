"""Progress of a submission: tallies, cadence, update limits and retries, as tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.progress import (
    RESPONSE_URL_USES,
    Cadence,
    Window,
    domains_line,
    follow,
    retries_of,
    retry_ids,
    retry_of,
    retry_value,
    tally,
)
from bot.core.submission import Action, Kind, Submission
from bot.core.tasks import ObjectType, Status, Task
from bot.errors import InvalidQuery

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
P, R, C, F = Status.PENDING, Status.REFRESHING, Status.COMPLETE, Status.FAILED


def task(n: int, status: Status, progress: float = 0, kind: str = "file") -> Task:
    done = 100 if status is C else progress
    return Task(
        task_id=str(n),
        object_path=f"https://www.example.com/{n}.js",
        object_type=kind,
        status=status,
        progress=done,
        created=NOW,
        description="Origin Timeout" if status is F else None,
    )


@pytest.mark.parametrize(
    ("ids", "found", "counts", "percent", "final", "failed"),
    [
        (["1", "2"], [], {P: 2}, 0, False, []),
        (["1", "2"], [task(1, R, 50)], {P: 1, R: 1}, 25, False, []),
        (["1", "2"], [task(1, C), task(2, R, 40)], {R: 1, C: 1}, 70, False, []),
        (["1", "2"], [task(1, C), task(2, F)], {C: 1, F: 1}, 100, True, ["2"]),
        (["1"], [task(1, C), task(9, F)], {C: 1}, 100, True, []),  # not ours: ignored
        ([], [], {}, 100, True, []),
    ],
)
def test_tally(ids, found, counts, percent, final, failed):
    counted = tally(ids, found)
    assert {s: counted.count(s) for s in (P, R, C, F) if counted.count(s)} == counts
    assert counted.percent == percent
    assert counted.final is final
    assert [t.task_id for t in counted.failed] == failed


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ([task(1, P)], [task(1, P)], False),
        ([task(1, P)], [task(1, R, 10)], True),
        ([task(1, R, 10)], [task(1, R, 10)], False),
        ([task(1, R, 10)], [task(1, R, 11)], True),
        ([task(1, R, 99)], [task(1, F)], True),
    ],
)
def test_what_changed(before, after, changed):
    assert (tally(["1"], before).shown != tally(["1"], after).shown) is changed


@pytest.mark.parametrize(
    ("elapsed", "every"),
    [(0, 10), (119, 10), (120, 30), (599, 30), (600, 60), (3000, 60)],
)
def test_cadence(elapsed, every):
    interval = Cadence().interval(timedelta(seconds=elapsed))
    assert interval == timedelta(seconds=every)


SUBMISSION = Submission(Action.REFRESH, Kind.DIRECTORY, ("https://a.example.com/s/",), True)


def record(*, private: bool = False, action: Action = Action.REFRESH):
    submission = replace(SUBMISSION, action=action)
    return follow(
        submission, ("1", "2"), id="t", user="U1", channel="C1", refused=0, at=NOW, private=private
    )


@pytest.mark.parametrize(
    ("action", "private", "cap"),
    [
        (Action.REFRESH, False, 30),
        (Action.PREFETCH, False, 60),
        (Action.PREFETCH, True, 29),  # the response_url expires after 30 minutes
    ],
)
def test_caps(action, private, cap):
    followed = record(action=action, private=private)
    assert followed.cap_at == NOW + timedelta(minutes=cap)
    assert not followed.cap_reached(NOW + timedelta(minutes=cap, seconds=-1))
    assert followed.cap_reached(NOW + timedelta(minutes=cap))


def test_next_look_never_passes_the_cap():
    followed = record()
    assert followed.next_look(NOW, Cadence()) == NOW + timedelta(seconds=10)
    late = NOW + timedelta(minutes=29, seconds=30)
    assert followed.next_look(late, Cadence()) == followed.cap_at


@pytest.mark.parametrize(
    ("since_update", "final", "allowed"),
    [(None, False, True), (9, False, False), (10, False, True), (3, True, False)],
)
def test_a_channel_message_changes_at_most_every_ten_seconds(since_update, final, allowed):
    followed = replace(record(), message_ts="1.2")
    if since_update is not None:
        followed = replace(followed, updated_at=NOW - timedelta(seconds=since_update))
    assert followed.may_update(NOW, final=final) is allowed


@pytest.mark.parametrize(
    ("uses", "minutes_since", "final", "allowed"),
    [
        (0, None, False, True),
        (1, 1, False, False),  # too soon: the uses must last
        (1, 5, False, True),
        (RESPONSE_URL_USES - 1, 10, False, False),  # the last use is for the final state
        (RESPONSE_URL_USES - 1, 0, True, True),
        (RESPONSE_URL_USES, 10, True, False),
    ],
)
def test_a_private_reply_budgets_the_response_url(uses, minutes_since, final, allowed):
    followed = replace(record(private=True), response_url="https://hooks.slack.com/x")
    followed = replace(followed, response_uses=uses)
    if minutes_since is not None:
        followed = replace(followed, updated_at=NOW - timedelta(minutes=minutes_since))
    assert followed.may_update(NOW, final=final) is allowed


def test_updates_spend_response_url_uses_only_when_private():
    shown = replace(record(), message_ts="1.2").updated("x", NOW, final=False)
    assert shown.response_uses == 0 and shown.finished_at is None
    private = replace(record(private=True), response_url="u").updated("x", NOW, final=True)
    assert private.response_uses == 1 and private.finished_at == NOW


def test_window_allows_limit_per_minute():
    window = Window(limit=2)
    assert window.take(NOW) and window.take(NOW + timedelta(seconds=1))
    assert not window.take(NOW + timedelta(seconds=59))
    assert window.take(NOW + timedelta(seconds=60))


def test_retry_of_takes_exactly_the_failed_paths_with_the_original_kind():
    followed = record()
    tasks = [
        replace(task(1, F), object_path="https://a.example.com/s/"),
        task(2, C),
        task(3, F),  # not this submission's
    ]
    retry = retry_of(followed, tasks)
    assert retry == Submission(
        Action.REFRESH, Kind.DIRECTORY, ("https://a.example.com/s/",), force=True
    )
    assert retry_of(followed, [task(1, C), task(2, C)]) is None


@pytest.mark.parametrize(
    ("kind", "action", "expected"),
    [
        (ObjectType.FILE, Action.REFRESH, Kind.FILE),
        (ObjectType.DIRECTORY, Action.REFRESH, Kind.DIRECTORY),
        (ObjectType.REGEX, Action.REFRESH, Kind.REGEX),
        (ObjectType.IGNORE_PARAMS, Action.REFRESH, Kind.IGNORE_PARAMS),
        (ObjectType.PRELOAD, Action.PREFETCH, Kind.FILE),
    ],
)
def test_retries_of_notified_tasks_by_type(kind, action, expected):
    (retry,) = retries_of([task(1, F, kind=kind), task(2, F, kind=kind)])
    assert (retry.action, retry.kind) == (action, expected)
    assert retry.paths == ("https://www.example.com/1.js", "https://www.example.com/2.js")


def test_retries_group_by_kind_and_skip_what_cannot_be_resubmitted():
    tasks = [task(1, F), task(2, F, kind="preload"), task(3, F, kind="block"), task(4, C)]
    retries = retries_of(tasks)
    assert [(r.action, r.paths) for r in retries] == [
        (Action.REFRESH, ("https://www.example.com/1.js",)),
        (Action.PREFETCH, ("https://www.example.com/2.js",)),
    ]


@pytest.mark.parametrize(
    ("paths", "line"),
    [
        ([], ""),
        (["https://a.example.com/1"], "a.example.com"),
        (["https://a.example.com/1", "https://a.example.com/2", "https://b.example.com/"],
         "a.example.com and 1 more domain"),
        (["https://a.example.com/1", "https://b.example.com/", "https://c.example.com/"],
         "a.example.com and 2 more domains"),
    ],
)  # fmt: skip
def test_domains_line(paths, line):
    assert domains_line(paths) == line


def test_retry_value_holds_what_a_button_holds_and_reads_back():
    tasks = [task(n, F) for n in range(10**11, 10**11 + 150)]
    value = retry_value([task(7, C), task(8, F, kind="block"), *tasks, tasks[0]])
    ids = retry_ids(value)
    assert len(ids) == 100 and len(value) <= 2000
    assert ids[0] == str(10**11) and "7" not in ids and "8" not in ids


@pytest.mark.parametrize(
    "value", ["", "1,x", "1;2", ",".join(["1"] * 2 + [str(n) for n in range(101)])]
)
def test_a_damaged_retry_value_is_refused(value):
    with pytest.raises(InvalidQuery):
        retry_ids(value)
