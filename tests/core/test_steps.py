"""Workflow step inputs, read like typed text: a RefreshRequest or StatusRequest, or an
InvalidQuery naming the input; task counts and the status word."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.steps import refresh_request, status_request, task_counts
from bot.core.submission import Action, Kind
from bot.core.tasks import Status, Task
from bot.errors import InvalidQuery

USER = "U0ANA1234"
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_a_refresh_request_reads_every_input():
    request = refresh_request(
        {
            "urls": "https://www.example.com/static/\r\nhttps://img.example.com/\n",
            "object_type": "Directory",
            "force": True,
            "requested_by": USER,
            "channel": "C0RELEASE",
        }
    )
    submission = request.submission
    assert submission.action is Action.REFRESH and submission.kind is Kind.DIRECTORY
    assert submission.force is True
    assert submission.paths == ("https://www.example.com/static/", "https://img.example.com/")
    assert (request.requested_by, request.channel) == (USER, "C0RELEASE")


def test_defaults_are_files_without_force_judged_without_a_channel():
    request = refresh_request({"urls": "<https://www.example.com/a.js>", "requested_by": USER})
    assert request.submission.kind is Kind.FILE and request.submission.force is False
    assert request.submission.paths == ("https://www.example.com/a.js",)  # Slack's link undone
    assert request.channel is None


@pytest.mark.parametrize(
    ("inputs", "field", "hint"),
    [
        ({"requested_by": USER}, "urls", "give the URLs"),
        ({"urls": "   ", "requested_by": USER}, "urls", "give the URLs"),
        ({"urls": 3, "requested_by": USER}, "urls", "give the URLs"),
        ({"urls": "https://a.example.com/x type:dir", "requested_by": USER}, "urls", "each line"),
        ({"urls": "www.example.com/a.js", "requested_by": USER}, "urls", "each line"),
        ({"urls": "https://a.example.com/x"}, "requested_by", "choose the person"),
        ({"urls": "https://a.example.com/x", "requested_by": "@ana"}, "requested_by", "user ID"),
        ({"urls": "https://a.example.com/x", "requested_by": USER, "channel": 5}, "channel", "ID"),
        (
            {"urls": "https://a.example.com/x", "requested_by": USER, "object_type": "all"},
            "object_type",
            "use one of file",
        ),
        (
            {"urls": "https://a.example.com/x", "requested_by": USER, "force": "yes"},
            "force",
            "true or false",
        ),
        (
            {"urls": "https://a.example.com/x", "requested_by": USER, "force": True},
            "force",
            "object_type `dir`",
        ),
        (
            {"urls": "https://a.example.com/dir/", "requested_by": USER},
            "urls",
            "add object_type `dir`",
        ),
        (
            {"urls": "https://*.example.com/x", "requested_by": USER},
            "urls",
            "no wildcards",
        ),
    ],
)
def test_bad_refresh_inputs_name_the_input(inputs, field, hint):
    with pytest.raises(InvalidQuery) as refused:
        refresh_request(inputs)
    assert refused.value.field == field and hint in refused.value.hint


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("704225667", ("704225667",)),
        ("1, 2;3\n2", ("1", "2", "3")),
        (["4", 5], ("4", "5")),  # a list from an earlier step
    ],
)
def test_status_requests_read_ids_separated_any_way(raw, ids):
    assert status_request({"task_ids": raw}).task_ids == ids


@pytest.mark.parametrize(
    ("inputs", "hint"),
    [
        ({}, "give task IDs"),
        ({"task_ids": "12a"}, "a task ID is a number"),
        ({"task_ids": ",".join(str(n) for n in range(101))}, "at most 100"),
        ({"task_ids": "1", "requested_by": "bob"}, "user ID"),
    ],
)
def test_bad_status_inputs_say_what_to_change(inputs, hint):
    with pytest.raises(InvalidQuery) as refused:
        status_request(inputs)
    assert hint in refused.value.hint


@given(
    st.dictionaries(
        st.sampled_from(["urls", "requested_by", "object_type", "force", "channel", "task_ids"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=80)),
    )
)
def test_any_inputs_give_a_request_or_an_invalid_query(inputs):
    for read in (refresh_request, status_request):
        with contextlib.suppress(InvalidQuery):  # anything else fails the test
            read(inputs)


def task(task_id: str, status: Status) -> Task:
    return Task(task_id, "https://a.example.com/x", "file", status, 0, NOW)


@pytest.mark.parametrize(
    ("statuses", "word"),
    [
        ([Status.COMPLETE, Status.COMPLETE], "complete"),
        ([Status.COMPLETE, Status.PENDING], "refreshing"),
        ([Status.REFRESHING, Status.FAILED], "failed"),
    ],
)
def test_task_counts_and_the_status_word(statuses, word):
    found = [task(str(n), status) for n, status in enumerate(statuses)]
    counts = task_counts([str(n) for n in range(len(statuses))] + ["99"], [*found, found[0]])
    assert counts.status == word
    assert counts.complete + counts.failed + counts.refreshing == len(statuses)
    assert counts.missing == ("99",)
    assert set(counts.outputs()) == {"status", "complete", "failed", "refreshing"}
