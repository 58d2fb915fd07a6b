"""/cdn stats over signed HTTP: the numbers from the store's history through response_url, the
chart through files upload v2 into the person's DM, "Share to channel", scopes and refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.access import Policy
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.render import ActionId
from tests.slack.fake_slack import button_click, slash_command
from tests.slack.limits import assert_inert, check_message
from tests.slack.test_chart import png_header
from tests.slack.test_http_app import buttons_of

DM = "D0ANA1234"  # the stand-in's conversations.open for U0ANA1234


async def keep(bot, n, *, ago, status=Status.COMPLETE, host="www.example.com", took=None):
    """Put one task in the bot's history as the archiver would: seen running when created,
    then seen in `status` `took` later."""
    now = bot.clock()
    created = now - ago
    path = f"https://{host}/stats/{n}.js"

    def seen(state):
        reason = "Origin Timeout" if state is Status.FAILED else None
        done = 100.0 if state is Status.COMPLETE else 0.0
        return Task(str(800_000_000 + n), path, ObjectType.FILE, state, done, created, reason)

    await bot.store.archive([seen(Status.REFRESHING)], created)
    if status is not Status.REFRESHING:
        await bot.store.archive([seen(status)], created + (took or timedelta(minutes=5)))


async def ask(bot, text, *, user="U0ANA1234"):
    hook = bot.slack.new_response_url()
    response = await bot.post(slash_command(text, response_url=hook, user=user))
    assert response.status_code == 200 and response.text == ""
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    return reply


async def click(bot, button, *, user="U0ANA1234"):
    hook = bot.slack.new_response_url()
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    await bot.post(button_click(action, response_url=hook, user=user))
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    return reply


def fields(reply):
    sections = [block for block in reply["blocks"] if block.get("fields")]
    return [field["text"] for field in sections[0]["fields"]] if sections else []


async def a_busy_day(bot):
    for n in range(6):
        await bot.store.archive([], bot.clock())
        await keep(bot, n, ago=timedelta(hours=n + 1), took=timedelta(minutes=n + 2))
    await keep(bot, 10, ago=timedelta(hours=2), status=Status.FAILED, host="img.example.com")
    await keep(bot, 11, ago=timedelta(minutes=3), status=Status.REFRESHING)
    await keep(bot, 20, ago=timedelta(days=1, hours=2), took=timedelta(minutes=3))  # the day before


async def test_stats_answer_in_numbers_and_put_the_chart_in_the_dm(running_bot):
    await a_busy_day(running_bot)
    reply = await ask(running_bot, "stats")
    assert reply["response_type"] == "ephemeral"
    assert fields(reply)[:2] == [
        "*Tasks*\n8 (+700% on the 24 h before)",
        "*❌ Failed*\n1 · 14% of finished (+14.3 pts)",
    ]
    assert "median 4 min 30 s" in json.dumps(reply)
    slack = running_bot.slack
    assert slack.calls_of("conversations.open")[0]["users"] == "U0ANA1234"
    (chart,) = slack.shared_files(DM)
    header = png_header(chart["data"])
    assert (header["width"], header["height"]) == (900, 360)
    assert chart["filename"].endswith(".png") and chart["length"] == len(chart["data"])
    assert "8 tasks, 1 failed" in chart["alt_txt"]
    assert chart["initial_comment"].startswith(":bar_chart: CDN tasks · 24 h, from `/cdn stats`")
    assert "<#C1>" in chart["initial_comment"]
    assert chart["permalink"] in json.dumps(reply)  # "in your DM with the bot", linked
    assert buttons_of(reply)[ActionId.SHARE_STATS]


async def test_share_to_channel_posts_the_numbers_and_the_chart_there(running_bot):
    await a_busy_day(running_bot)
    private = await ask(running_bot, "stats since:6h")
    shared = await click(running_bot, buttons_of(private)[ActionId.SHARE_STATS])
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False  # the private answer stays
    assert fields(shared) == fields(private)
    assert "shared by <@U0ANA1234>" in json.dumps(shared)
    assert not buttons_of(shared)
    assert_inert(shared)
    (in_dm,) = running_bot.slack.shared_files(DM)
    (in_channel,) = running_bot.slack.shared_files("C1")
    assert in_channel["data"] == in_dm["data"]  # the same chart, drawn once
    assert "shared by <@U0ANA1234>" in in_channel["initial_comment"]


async def test_the_period_before_is_the_same_length_just_before(running_bot):
    await keep(running_bot, 1, ago=timedelta(minutes=30), took=timedelta(minutes=10))
    await keep(running_bot, 2, ago=timedelta(minutes=90), took=timedelta(minutes=2))
    await keep(running_bot, 3, ago=timedelta(minutes=100), status=Status.FAILED)
    await keep(running_bot, 4, ago=timedelta(minutes=150))  # before both
    reply = await ask(running_bot, "stats since:1h")
    assert fields(reply)[0] == "*Tasks*\n1 (-50% on the 1 h before)"
    assert fields(reply)[4].startswith("*:stopwatch: Time to complete*\nmedian 10 min · p90 10 min")
    assert "+8 min on the median" in fields(reply)[4]
    assert fields(reply)[5] == ("*The 1 h before*\n2 tasks · 1 failed · median 2 min · p90 2 min")


@pytest.mark.policy(Policy(scopes={"C1": ("*.example.com",)}))
async def test_a_limited_channel_counts_only_its_domains(running_bot):
    await a_busy_day(running_bot)
    await keep(running_bot, 30, ago=timedelta(hours=1), status=Status.FAILED, host="pay.other.org")
    reply = await ask(running_bot, "stats")
    assert fields(reply)[0].startswith("*Tasks*\n8 ")
    assert "other.org" not in json.dumps(reply)
    (chart,) = running_bot.slack.shared_files(DM)
    assert "8 tasks" in chart["alt_txt"]
    refused = await ask(running_bot, "stats domain:pay.other.org")
    assert "may not see tasks of pay.other.org" in refused["text"]
    assert len(running_bot.slack.shared_files()) == 1
    tampered = dict(buttons_of(reply)[ActionId.SHARE_STATS])
    tampered["value"] += ";d=pay.other.org"
    assert "may not see tasks of pay.other.org" in (await click(running_bot, tampered))["text"]


async def test_a_chart_that_cannot_be_shared_leaves_the_numbers(running_bot):
    await a_busy_day(running_bot)
    running_bot.slack.open_error = "missing_scope"
    reply = await ask(running_bot, "stats")
    assert fields(reply)[0].startswith("*Tasks*\n8 ")
    assert "The chart could not be shared: the app may not upload files" in json.dumps(reply)
    running_bot.slack.open_error = None
    private = await ask(running_bot, "stats")
    running_bot.slack.upload_errors["C1"] = "not_in_channel"
    shared = await click(running_bot, buttons_of(private)[ActionId.SHARE_STATS])
    assert shared["response_type"] == "in_channel"
    assert fields(shared) == fields(private)
    assert "the bot is not in this channel: `/invite` it, then share again" in json.dumps(shared)


async def test_an_upload_url_that_refuses_the_bytes_leaves_the_numbers(running_bot):
    await a_busy_day(running_bot)
    running_bot.slack.upload_status = 500
    reply = await ask(running_bot, "stats")
    assert fields(reply)[0].startswith("*Tasks*\n8 ")
    assert "The chart could not be shared: Slack refused it (`upload_refused`)" in json.dumps(reply)


async def test_nothing_kept_yet_says_so(running_bot):
    reply = await ask(running_bot, "stats type:regex")
    assert "No tasks in the history for this period" in json.dumps(reply)
    assert not running_bot.slack.calls_of("files.getUploadURLExternal")
