"""The write handlers called directly: a fake writer and tracker, a real Store on disk, and the
confirmation's Block Kit checked against Slack's limits whatever the paths."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.core.audit import AuditEntry, submission_summary
from bot.core.submission import (
    Action,
    CallOutcome,
    Confirmation,
    Kind,
    Submission,
    Submitted,
    parse_submission,
)
from bot.core.tasks import RefreshQuota, Task
from bot.errors import ConfigurationError, NotEnoughQuota, QuotaExceeded
from bot.slack import write_render, writes
from bot.slack.render import ActionId
from bot.slack.replies import Services
from bot.store.database import Store
from tests.slack.limits import assert_inert, check_message
from tests.slack.test_commands import NOW, Finder, Notifier, People

QUOTA = RefreshQuota(
    url_quota=10_000, url_remain=9_000, dir_quota=100, dir_remain=100, regex_quota=20,
    regex_remain=20, preload_quota=1_000, preload_remain=1_000, block_quota=100,
    block_remain=100, ignore_params_quota=10_000, ignore_params_remain=10_000,
)  # fmt: skip


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    yield opened
    await opened.close()


class Writer:
    """Creates one task per path, unless told which call to refuse."""

    def __init__(self, *, refuse_call: int | None = None) -> None:
        self.refuse_call = refuse_call
        self.sent: list[Submission] = []

    async def quota(self) -> RefreshQuota:
        return QUOTA

    async def submit(self, submission: Submission) -> Submitted:
        self.sent.append(submission)
        outcomes, failure = [], None
        for number, paths in enumerate(submission.calls()):
            if failure is not None:
                outcomes.append(CallOutcome(paths, error=failure, sent=False))
            elif number == self.refuse_call:
                failure = QuotaExceeded("RefreshObjectCaches", code="QuotaExceeded.Refresh")
                outcomes.append(CallOutcome(paths, request_id=f"r{number}", error=failure))
            else:
                ids = tuple(f"{number}{i:04d}" for i in range(len(paths)))
                outcomes.append(CallOutcome(paths, ids, f"r{number}"))
        return Submitted(tuple(outcomes))

    async def tasks(self, task_ids: Sequence[str]) -> list[Task]:
        del task_ids
        return []


class Tracker:
    def __init__(self) -> None:
        self.started: list[writes.Started] = []

    async def start(self, started: writes.Started) -> None:
        self.started.append(started)


def services_of(store, *, writer=None, tracker=None) -> Services:
    return Services(
        find_tasks=Finder(),
        store=store,
        notifier=Notifier(),
        people=People(),
        clock=lambda: NOW,
        writer=writer,
        tracker=tracker,
    )


def entry() -> AuditEntry:
    return AuditEntry(NOW, "U0ANA1234", "C0OPS0001", "action", ActionId.CONFIRM_WRITE.value)


def many(count: int) -> Submission:
    text = " ".join(f"https://www.example.com/{n}.js" for n in range(count))
    return parse_submission(Action.REFRESH, text)


async def confirmed(services, submission):
    reply = await writes.confirmation_reply(
        services, submission, user="U0ANA1234", channel="C0OPS0001"
    )
    (actions,) = [b for b in reply.payload()["blocks"] if b["type"] == "actions"]
    value = actions["elements"][0]["value"]
    noted = entry()
    done = await writes.confirm(
        services, {"value": value}, entry=noted, response_url="https://hooks.slack.com/x"
    )
    return done, noted


async def test_a_submission_with_tasks_is_handed_to_the_tracker(store):
    tracker, writer = Tracker(), Writer()
    services = services_of(store, writer=writer, tracker=tracker)
    done, noted = await confirmed(services, many(3))
    (started,) = tracker.started
    assert started.submission == many(3) and started.submitted.task_ids == tuple(
        f"0{i:04d}" for i in range(3)
    )
    assert (started.user, started.channel) == ("U0ANA1234", "C0OPS0001")
    assert started.response_url == "https://hooks.slack.com/x" and started.at == NOW
    assert noted.results == 3 and noted.request_ids == ("r0",) and noted.outcome == "ok"
    assert "3 tasks created" in done.text


async def test_nothing_created_means_nothing_to_follow(store):
    tracker = Tracker()
    services = services_of(store, writer=Writer(refuse_call=0), tracker=tracker)
    done, noted = await confirmed(services, many(2))
    assert tracker.started == []
    assert "Nothing was submitted" in done.text and noted.outcome.startswith("failed: ")


async def test_a_tracker_that_fails_does_not_hide_the_submission(store):
    class Broken:
        async def start(self, started: writes.Started) -> None:
            raise RuntimeError(f"boom: {started.user}")

    services = services_of(store, writer=Writer(), tracker=Broken())
    done, _ = await confirmed(services, many(1))
    assert "1 task created" in done.text


async def test_without_a_writer_nothing_can_be_submitted(store):
    with pytest.raises(ConfigurationError):
        await writes.confirmation_reply(
            services_of(store), many(1), user="U0ANA1234", channel="C0OPS0001"
        )


def test_shortfall_is_exact():
    assert writes.shortfall(many(3), 3) is None
    refusal = writes.shortfall(many(3), 2)
    assert isinstance(refusal, NotEnoughQuota)
    assert (refusal.action, refusal.kind, refusal.wanted, refusal.left) == ("refresh", "File", 3, 2)


def test_the_audit_summary_counts_and_names_the_first_paths():
    line = submission_summary(many(5))
    assert line.startswith("refresh File x5 (www.example.com 5): https://www.example.com/0.js ")
    assert "3.js" not in line


# -- the Block Kit ------------------------------------------------------------------------------


R, P = Action.REFRESH, Action.PREFETCH


@pytest.mark.parametrize(
    ("submission", "label"),
    [
        (many(1), "Refresh 1 URL"),
        (many(2500), "Refresh 2,500 URLs"),
        (parse_submission(R, "https://a.example.com/d/ type:dir force"), "Refresh 1 directory"),
        (parse_submission(R, "https://a.example.com/.*\\.png type:regex"), "Refresh 1 regex"),
        (parse_submission(P, "https://a.example.com/a https://a.example.com/b"), "Prefetch 2 URLs"),
    ],
)  # fmt: skip
def test_the_primary_button_names_the_action(submission, label):
    assert write_render.button_text(submission) == label


def test_the_confirmation_fits_slack_whatever_the_paths():
    hostile = "https://www.example.com/<!channel>&<@U123>/"
    longest = [hostile + "x" * (1024 - len(hostile) - 6) + f"{n:05d}" for n in range(10)]
    paths = tuple(longest) + tuple(f"https://d{n}.example.com/a" for n in range(10))
    submission = Submission(Action.REFRESH, Kind.FILE, paths)
    made = Confirmation("U0ANA1234.abc", submission, "U0ANA1234", "C1", NOW)
    payload = write_render.confirmation(made, left=100).payload()
    check_message(payload)
    assert_inert(payload)
    buttons = next(b for b in payload["blocks"] if b["type"] == "actions")["elements"]
    assert [b["value"] for b in buttons] == ["U0ANA1234.abc", "U0ANA1234.abc"]
    assert "2 RefreshObjectCaches calls" in str(payload)  # 11 domains: ten a call at most


def test_a_partial_result_lists_both_sides():
    submission = many(8)
    reply = write_render.submitted(
        submission,
        accepted=submission.paths[:2],
        refused=submission.paths[2:],
        tasks=2,
        user="U0ANA1234",
        reason="Quota <gone>",
    )
    payload = reply.payload()
    check_message(payload)
    assert_inert(payload)
    text = str(payload)
    assert "Partly submitted: 2 URLs of 8 went in (2 tasks); 6 URLs did not." in text
    assert "Quota &lt;gone&gt;" in text and "…and 1 more" in text
