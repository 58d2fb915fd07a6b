"""Failure notifications and subscription replies: content, buttons, limits, escaping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.display import REASON_HINTS, REASON_LABELS
from bot.core.query import decode_query
from bot.core.tasks import FailureReason, ObjectType, Status, Task
from bot.core.watch import Subscription
from bot.slack import alerts
from bot.slack.render import ActionId
from bot.store.database import ActiveMute
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
    # The domain leads, in the title and in the fallback text a phone's notification shows.
    assert payload["text"].startswith(":x: Refresh failed on img.example.com: ")
    assert "https://img.example.com/assets/1.png" in payload["text"]
    title = payload["blocks"][0]["text"]["text"]
    assert title.startswith(":x: *Refresh failed on img.example.com*")
    fields = [field["text"] for field in payload["blocks"][1]["fields"]]
    assert fields[0] == "*Reason*\nOrigin timeout" and fields[1] == "*Type*\nfile"
    assert fields[2].startswith("*Created*\n<!date^")
    assert payload["blocks"][3]["elements"][0]["text"] == "Task ID 5001"
    advice = payload["blocks"][2]["text"]["text"]
    assert advice.startswith("*What to do:*") and "answers the CDN within its timeout" in advice
    buttons = actions_of(payload)
    assert buttons[ActionId.OPEN_CONSOLE]["url"] == alerts.CONSOLE_URL
    query = decode_query(buttons[ActionId.SHOW_FAILED]["value"], now=NOW)
    assert query.status is Status.FAILED and query.domain == "img.example.com"
    assert query.since == NOW - timedelta(minutes=2)
    assert buttons[ActionId.MUTE]["value"] == "img.example.com"


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("Origin Timeout", "answers the CDN within its timeout"),
        ("Origin Return StatusCode 5XX", "origin's error logs"),
        ("Internal Error", "open a ticket with Alibaba Cloud quoting the task ID"),
        ("Something new", "open the task in the Alibaba Cloud console"),
    ],
)
def test_every_reason_has_a_hint(reason, hint):
    assert hint in json.dumps(alerts.failure_notice([failed(1, reason=reason)], now=NOW).payload())


@pytest.mark.parametrize("reason", list(FailureReason))
def test_a_hint_says_more_than_its_reason(reason):
    label, hint = REASON_LABELS[reason].lower(), REASON_HINTS[reason].lower()
    assert label not in hint and "retry" in hint  # an action, not the reason again


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (ObjectType.FILE, "Refresh failed on img.example.com"),
        (ObjectType.DIRECTORY, "Refresh failed on img.example.com"),
        (ObjectType.PRELOAD, "Prefetch failed on img.example.com"),
        (ObjectType.BLOCK, "Block failed on img.example.com"),
    ],
)
def test_the_title_says_what_failed_where(kind, title):
    payload = alerts.failure_notice([replace(failed(1), object_type=kind)], now=NOW).payload()
    assert payload["text"].startswith(f":x: {title}: ")
    assert f"*{title}*" in payload["blocks"][0]["text"]["text"]


def test_several_failures_are_one_digest():
    tasks = [
        failed(1, "a.example.com"),
        failed(2, "b.example.com", "Internal Error"),
        failed(3, "a.example.com"),
    ]
    payload = alerts.failure_notice(tasks, now=NOW).payload()
    check_message(payload)
    assert payload["text"].startswith(
        ":x: 3 CDN tasks failed on `a.example.com` and `b.example.com`"
    )
    assert ActionId.OPEN_CONSOLE in actions_of(payload)
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


def test_a_subscription_without_stuck_notices_says_so_everywhere():
    quiet = replace(sub("www.example.com"), stuck=False)
    listing = alerts.subscriptions_list([sub(), quiet]).text
    assert listing.startswith("*This channel hears about failed and stuck CDN tasks for:*")
    assert listing.count("failures only (`stuck:off`)") == 1
    assert "failures only: no notices" in alerts.subscribed(quiet, created=True).text
    assert "`stuck:off` stops those" in alerts.subscribed(sub(), created=True).text
    assert "to failed Alibaba" in alerts.channel_announcement(quiet).text
    assert "to failed and stuck Alibaba" in alerts.channel_announcement(sub()).text
    assert "are off for `www.example.com`" in alerts.stuck_switched(quiet).text
    assert "on again for every domain" in alerts.stuck_switched(sub()).text


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
    removed = alerts.unsubscribed([sub("a.example.com", ObjectType.FILE)], [sub()]).text
    assert "Removed 1 subscription: `a.example.com` (file tasks)." in removed
    assert "Still subscribed" in removed and "every domain" in removed
    assert (
        "Removed 2 subscriptions: every domain, `b.com`"
        in alerts.unsubscribed([sub(), sub("b.com")], []).text
    )
    assert "No subscription here matched" in alerts.unsubscribed([], [sub()]).text


@pytest.mark.parametrize(
    ("subscription", "command"),
    [
        (sub(), "`/cdn unsubscribe all`"),
        (sub("www.example.com"), "`/cdn unsubscribe domain:www.example.com`"),
        (sub(kind=ObjectType.DIRECTORY), "`/cdn unsubscribe type:directory`"),
        (
            sub("*.example.com", ObjectType.FILE),
            "`/cdn unsubscribe domain:*.example.com type:file`",
        ),
    ],
)
def test_the_announcement_suggests_the_matching_unsubscribe(subscription, command):
    text = alerts.channel_announcement(subscription).text
    assert f"{command} stops them" in text


@pytest.mark.parametrize(
    ("wanted", "existing", "note"),
    [
        (sub("www.example.com"), sub("*.example.com"), "`*.example.com` already covers it"),
        (sub("www.example.com", ObjectType.FILE), sub(), "every domain already covers it"),
        (
            sub("*.example.com"),
            sub("img.example.com", ObjectType.FILE),
            "This covers `img.example.com` (file tasks) too; "
            "`/cdn unsubscribe domain:img.example.com type:file` removes the narrower one",
        ),
    ],
)
def test_overlapping_subscriptions_are_pointed_out(wanted, existing, note):
    found = alerts.overlaps(wanted, [existing])
    assert found == [existing]
    assert note in alerts.subscribed(wanted, created=True, overlapping=found).text


@pytest.mark.parametrize(
    ("wanted", "existing"),
    [
        (sub("www.example.com"), sub("img.example.com")),
        (sub("www.example.com", ObjectType.FILE), sub("*.example.com", ObjectType.DIRECTORY)),
        (sub("example.org"), sub("*.example.com")),
        (sub("a.com"), sub("a.com")),  # the same one is "nothing doubled", not an overlap
    ],
)
def test_separate_subscriptions_do_not_overlap(wanted, existing):
    assert alerts.overlaps(wanted, [existing]) == []


def test_mutes_are_announced_listed_and_lifted_in_the_open():
    until = NOW + timedelta(hours=1)
    announced = alerts.mute_announcement("img.example.com", until, by="U0ANA1234").payload()
    check_message(announced)
    assert announced["text"].startswith(
        ":zipper_mouth_face: <@U0ANA1234> muted failure notifications for `img.example.com`"
    )
    assert "<!date^" in announced["text"]  # until when, in each reader's zone
    assert actions_of(announced)[ActionId.UNMUTE]["value"] == "img.example.com"
    listing = alerts.subscriptions_list(
        [sub()], [ActiveMute("img.example.com", "U0ANA1234", until), ActiveMute("a.com", "", until)]
    ).text
    assert "*Muted (failures skipped, not saved up):*" in listing
    assert "• `img.example.com` until <!date^" in listing and "muted by <@U0ANA1234>" in listing
    assert "`/cdn unmute all` lifts them" in listing
    assert "Muted" in alerts.subscriptions_list([], [ActiveMute("a.com", "", until)]).text
    lifted = alerts.unmute_announcement(["a.com", "b.com"], by="U0ANA1234").text
    assert lifted.startswith(":bell: <@U0ANA1234> unmuted `a.com`, `b.com`")
    assert "`x.com` is not muted here" in alerts.unmuted([], asked="x.com").text
    assert "Nothing is muted here" in alerts.unmuted([], asked=None).text


@pytest.mark.parametrize("hostile", ["<!channel>", "<http://evil|ok>"])
def test_subscription_replies_are_inert(hostile):
    assert_inert(alerts.subscriptions_list([sub(hostile, unreachable=hostile)]).payload())
    assert_inert(alerts.muted(hostile, NOW).payload())
    assert_inert(alerts.mute_announcement(hostile, NOW, by=hostile).payload())
    assert_inert(alerts.unmute_announcement([hostile], by=hostile).payload())
    assert_inert(alerts.unsubscribed([sub(hostile)], []).payload())
    assert_inert(alerts.channel_announcement(sub(hostile)).payload())
    mutes = [ActiveMute(hostile, hostile, NOW)]
    assert_inert(alerts.subscriptions_list([], mutes).payload())
    assert_inert(alerts.cannot_post(hostile).payload())
    quiet = replace(sub(hostile), stuck=False)
    for subscription in (sub(hostile), quiet):
        assert_inert(alerts.stuck_switched(subscription).payload())
        assert_inert(alerts.stuck_switch_announcement(subscription, by=hostile).payload())
        assert_inert(alerts.subscribed(subscription, created=True).payload())


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
