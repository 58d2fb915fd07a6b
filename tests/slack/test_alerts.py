"""Failure notifications and subscription replies: content, buttons, limits, escaping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.query import decode_query
from bot.core.tasks import ObjectType, Status, Task
from bot.core.watch import Subscription
from bot.slack import alerts
from bot.slack.render import ActionId
from tests.slack.limits import assert_inert, check_message

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def failed(n: int, host: str = "img.example.com", reason="Origin Timeout", path=None) -> Task:
    return Task(
        task_id=str(5000 + n),
        object_path=path or f"https://{host}/assets/{n}.png",
        object_type=ObjectType.FILE,
        status=Status.FAILED,
        progress=0,
        created=NOW - timedelta(minutes=n + 1),
        description=reason,
    )


def actions_of(payload):
    (block,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    return {element["action_id"]: element for element in block["elements"]}


def test_single_failure_in_full():
    payload = alerts.failure_notice([failed(1)], now=NOW).payload()
    check_message(payload)
    text = json.dumps(payload, ensure_ascii=False)
    assert "A CDN task failed" in text and "https://img.example.com/assets/1.png" in text
    fields = [field["text"] for field in payload["blocks"][1]["fields"]]
    assert fields[0] == "*Domain*\nimg.example.com" and fields[1] == "*Type*\nfile"
    assert "check the origin's health and timeouts" in fields[2]
    assert fields[3].startswith("*Created*\n<!date^")
    buttons = actions_of(payload)
    query = decode_query(buttons[ActionId.SHOW_FAILED]["value"], now=NOW)
    assert query.status is Status.FAILED and query.domain == "img.example.com"
    assert query.since == NOW - timedelta(minutes=2)
    assert buttons[ActionId.MUTE]["value"] == "img.example.com"


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("Origin Timeout", "check the origin's health and timeouts"),
        ("Origin Return StatusCode 5XX", "the origin returned server errors"),
        ("Internal Error", "retry later"),
    ],
)
def test_every_reason_has_a_hint(reason, hint):
    assert hint in json.dumps(alerts.failure_notice([failed(1, reason=reason)], now=NOW).payload())


def test_several_failures_are_one_digest():
    tasks = [
        failed(1, "a.example.com"),
        failed(2, "b.example.com", "Internal Error"),
        failed(3, "a.example.com"),
    ]
    payload = alerts.failure_notice(tasks, now=NOW).payload()
    check_message(payload)
    assert payload["text"].startswith(":x: 3 CDN tasks failed across 2 domains")
    assert "2 Origin timeout · 1 Internal error" in payload["blocks"][0]["text"]["text"]
    table = next(b for b in payload["blocks"] if b["type"] == "table")
    assert len(table["rows"]) == 4
    mute = actions_of(payload)[ActionId.MUTE]
    assert mute["type"] == "static_select"
    assert [o["value"] for o in mute["options"]] == ["a.example.com", "b.example.com"]
    show = decode_query(actions_of(payload)[ActionId.SHOW_FAILED]["value"], now=NOW)
    # The tasks it announces, by ID: a channel scoped to some domains runs that query too.
    assert show.domain is None and show.status is Status.FAILED
    assert show.task_ids == ("5001", "5002", "5003")


def test_huge_digest_stays_within_limits():
    tasks = [failed(n, f"d{n % 150}.example.com") for n in range(500)]
    payload = alerts.failure_notice(tasks, now=NOW).payload()
    check_message(payload)
    assert "Showing the newest 25" in json.dumps(payload)
    table = next(b for b in payload["blocks"] if b["type"] == "table")
    assert len(table["rows"]) == 26
    assert len(actions_of(payload)[ActionId.MUTE]["options"]) == 100
    show = decode_query(actions_of(payload)[ActionId.SHOW_FAILED]["value"], now=NOW)
    assert show.task_ids == tuple(str(5000 + n) for n in range(100))  # the newest hundred
    assert "lists the newest 100" in json.dumps(payload)


def test_show_carries_as_many_ids_as_a_button_value_holds():
    tasks = [failed(n, f"d{n % 2}.example.com") for n in range(100)]
    tasks = [replace(t, task_id=f"{10**19 + n}") for n, t in enumerate(tasks)]  # 20 digits each
    payload = alerts.failure_notice(tasks, now=NOW).payload()
    check_message(payload)  # values stay within 2,000 characters
    show = decode_query(actions_of(payload)[ActionId.SHOW_FAILED]["value"], now=NOW)
    assert 80 <= len(show.task_ids) < 100
    assert show.task_ids == tuple(t.task_id for t in tasks[: len(show.task_ids)])


@pytest.mark.parametrize(
    "hostile", ["<!channel>", "<@U123>", "<http://evil|ok>", "&lt;", "`x`\n*y*"]
)
def test_notifications_are_inert(hostile):
    one = failed(1, path=f"https://img.example.com/{hostile}")
    assert_inert(alerts.failure_notice([one], now=NOW).payload())
    assert_inert(alerts.failure_notice([one, failed(2)], now=NOW).payload())


def sub(domain=None, kind=None, unreachable=None):
    return Subscription("C1", domain, kind, "U0ANA1234", NOW, unreachable)


def test_subscription_replies():
    listing = alerts.subscriptions_list(
        [sub(), sub("*.example.com", ObjectType.FILE, "is_archived")]
    ).payload()
    check_message(listing)
    text = listing["blocks"][0]["text"]["text"]
    assert "every domain" in text and "`*.example.com` (file tasks)" in text
    assert "<@U0ANA1234>" in text and "not delivered (`is_archived`)" in text
    assert "no failure notifications" in alerts.subscriptions_list([]).text
    assert "Subscribed" in alerts.subscribed(sub("a.com"), created=True).text
    assert "nothing doubled" in alerts.subscribed(sub("a.com"), created=False).text
    assert "/invite" in alerts.cannot_post("not_in_channel").text
    assert "Removed 2 subscriptions" in alerts.unsubscribed(2, []).text
    assert "No subscription here matched" in alerts.unsubscribed(0, [sub()]).text


@pytest.mark.parametrize("hostile", ["<!channel>", "<http://evil|ok>"])
def test_subscription_replies_are_inert(hostile):
    assert_inert(alerts.subscriptions_list([sub(hostile, unreachable=hostile)]).payload())
    assert_inert(alerts.muted(hostile, NOW).payload())
    assert_inert(alerts.cannot_post(hostile).payload())


def test_a_failure_notice_offers_retry():
    one = actions_of(alerts.failure_notice([failed(1)], now=NOW).payload())[ActionId.RETRY_TASKS]
    assert one["text"]["text"] == "Retry" and one["value"] == "5001"
    digest = alerts.failure_notice([failed(1), failed(2, "b.example.com")], now=NOW).payload()
    check_message(digest)
    retry = actions_of(digest)[ActionId.RETRY_TASKS]
    assert retry["text"]["text"] == "Retry all failed" and retry["value"] == "5001,5002"


def test_no_retry_for_tasks_that_cannot_be_resubmitted():
    blocked = replace(failed(1), object_type=ObjectType.BLOCK)
    payload = alerts.failure_notice([blocked], now=NOW).payload()
    assert ActionId.RETRY_TASKS not in actions_of(payload)
