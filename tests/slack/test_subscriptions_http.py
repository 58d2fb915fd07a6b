"""Subscribing, listing, unsubscribing, muting and "Show failed tasks", over signed HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.access import Allow, Policy
from bot.slack.render import ActionId
from tests.slack.fake_slack import button_click, slash_command
from tests.slack.limits import assert_inert, check_message
from tests.slack.test_http_app import command


def text_of(reply) -> str:
    return json.dumps(reply, ensure_ascii=False)


async def test_subscribe_announces_in_the_channel_and_merges_duplicates(running_bot):
    reply = await command(running_bot, "subscribe domain:www.example.com type:file")
    assert "Subscribed" in reply["text"] and reply["response_type"] == "ephemeral"
    (announcement,) = running_bot.slack.posts_to("C1")
    assert "<@U0ANA1234> subscribed this channel" in announcement["text"]
    again = await command(running_bot, "sub www.example.com type:file")
    assert "nothing doubled" in again["text"]
    assert len(running_bot.slack.posts_to("C1")) == 1
    (stored,) = await running_bot.store.subscriptions("C1")
    assert (stored.domain, stored.object_type.value, stored.added_by) == (
        "www.example.com", "file", "U0ANA1234",
    )  # fmt: skip


async def test_private_channel_without_the_bot_says_how_to_invite(running_bot):
    running_bot.slack.channel_errors["C1"] = "not_in_channel"
    reply = await command(running_bot, "subscribe")
    assert "/invite @cdn-task-bot" in reply["text"]
    assert await running_bot.store.subscriptions("C1") == []


async def test_list_and_unsubscribe(running_bot):
    await command(running_bot, "subscribe")
    await command(running_bot, "subscribe domain:*.example.com")
    listing = await command(running_bot, "subscriptions")
    text = listing["blocks"][0]["text"]["text"]
    assert "every domain" in text and "`*.example.com`" in text and "<@U0ANA1234>" in text
    one = await command(running_bot, "unsubscribe domain:*.example.com")
    assert "Removed 1 subscription: `*.example.com`." in one["text"]
    assert "every domain" in one["text"]
    none = await command(running_bot, "unsubscribe domain:nothing.example.com")
    assert "No subscription here matched" in none["text"]
    everything = await command(running_bot, "unsubscribe all")
    assert "Removed 1 subscription" in everything["text"]
    assert "no failure notifications" in (await command(running_bot, "subscriptions"))["text"]


async def test_overlaps_are_pointed_out_and_unsubscribing_is_announced(running_bot):
    await command(running_bot, "subscribe domain:*.example.com")
    added = await command(running_bot, "subscribe domain:www.example.com")
    assert "`*.example.com` already covers it" in added["text"]
    assert "`/cdn unsubscribe domain:www.example.com` undoes this one" in added["text"]
    announcements = [post["text"] for post in running_bot.slack.posts_to("C1")]
    assert "`/cdn unsubscribe domain:www.example.com` stops them" in announcements[-1]
    await command(running_bot, "unsubscribe domain:www.example.com")
    said = running_bot.slack.posts_to("C1")[-1]["text"]
    assert said == (
        ":no_bell: <@U0ANA1234> unsubscribed this channel from failed CDN tasks for "
        "`www.example.com`."
    )
    before = len(running_bot.slack.posts_to("C1"))
    await command(running_bot, "unsubscribe domain:nothing.example.com")
    assert len(running_bot.slack.posts_to("C1")) == before  # nothing removed, nothing said


async def test_unreachable_subscriptions_are_reported(running_bot):
    await command(running_bot, "subscribe")
    await running_bot.store.mark_unreachable("C1", "is_archived")
    listing = await command(running_bot, "subscriptions")
    assert "not delivered (`is_archived`)" in listing["text"]


async def click(bot, action):
    hook = bot.slack.new_response_url()
    response = await bot.post(button_click(action, response_url=hook))
    assert response.status_code == 200
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    assert_inert(reply)
    return reply


async def test_mute_button_and_select(running_bot, clock):
    reply = await click(
        running_bot,
        {"action_id": ActionId.MUTE.value, "type": "button", "value": "img.example.com"},
    )
    assert reply["replace_original"] is False and "Muted `img.example.com`" in reply["text"]
    chosen = {"value": "video.example.net", "text": {"type": "plain_text", "text": "v"}}
    await click(
        running_bot,
        {"action_id": ActionId.MUTE.value, "type": "static_select", "selected_option": chosen},
    )
    muted = await running_bot.store.muted(clock())
    assert muted == {"C1": {"img.example.com", "video.example.net"}}
    assert await running_bot.store.muted(clock() + timedelta(hours=2)) == {}
    bad = await click(
        running_bot, {"action_id": ActionId.MUTE.value, "type": "button", "value": "<!here>"}
    )
    assert ":warning:" in bad["text"]


async def test_a_mute_is_announced_listed_and_undone_by_anyone_allowed(running_bot, clock):
    mute = {"action_id": ActionId.MUTE.value, "type": "button", "value": "img.example.com"}
    await click(running_bot, mute)
    (announcement,) = running_bot.slack.posts_to("C1")
    check_message(announcement)
    assert_inert(announcement)
    assert announcement["text"].startswith(
        ":zipper_mouth_face: <@U0ANA1234> muted failure notifications for `img.example.com`"
    )
    (undo,) = announcement["blocks"][-1]["elements"]
    assert (undo["action_id"], undo["value"]) == (ActionId.UNMUTE.value, "img.example.com")
    listing = await command(running_bot, "subscriptions")
    assert "`img.example.com` until <!date^" in listing["text"]
    assert "muted by <@U0ANA1234>" in listing["text"]
    unmuted = await click(running_bot, {**undo, "type": "button"})
    assert "Unmuted `img.example.com`" in unmuted["text"]
    assert await running_bot.store.muted(clock()) == {}
    lifted = running_bot.slack.posts_to("C1")[-1]["text"]
    assert lifted.startswith(":bell: <@U0ANA1234> unmuted `img.example.com`")
    again = await click(running_bot, {**undo, "type": "button"})
    assert "is not muted here" in again["text"]
    assert len(running_bot.slack.posts_to("C1")) == 2  # nothing lifted, nothing said


async def test_slash_unmute_one_or_all(running_bot, clock):
    until = clock() + timedelta(hours=1)
    for domain in ("a.example.com", "b.example.com"):
        await running_bot.store.mute("C1", domain, until, by="U0OPS0001")
    one = await command(running_bot, "unmute a.example.com")
    assert "Unmuted `a.example.com`" in one["text"]
    assert await running_bot.store.muted(clock()) == {"C1": {"b.example.com"}}
    everything = await command(running_bot, "unmute all")
    assert "Unmuted `b.example.com`" in everything["text"]
    assert running_bot.slack.posts_to("C1")[-1]["text"].startswith(
        ":bell: <@U0ANA1234> unmuted `b.example.com`"
    )
    assert "Nothing is muted here" in (await command(running_bot, "unmute all"))["text"]
    assert "I don't know" not in (await command(running_bot, "unmute"))["text"]


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"}))))
async def test_unmute_needs_the_rights_mute_needs(running_bot, clock):
    await running_bot.store.mute("C1", "a.example.com", clock() + timedelta(hours=1))
    refused = await command(running_bot, "unmute all")
    assert "you may not manage failure notifications here" in refused["text"]
    button = {"action_id": ActionId.UNMUTE.value, "type": "button", "value": "a.example.com"}
    assert "may not manage" in (await click(running_bot, button))["text"]
    assert await running_bot.store.muted(clock()) == {"C1": {"a.example.com"}}
    assert running_bot.slack.posts_to("C1") == []


async def test_the_console_link_is_acknowledged(running_bot):
    hook = running_bot.slack.new_response_url()
    action = {"action_id": ActionId.OPEN_CONSOLE.value, "type": "button", "value": ""}
    response = await running_bot.post(button_click(action, response_url=hook))
    assert response.status_code == 200


async def test_show_failed_tasks_answers_only_the_viewer(running_bot, clock):
    from bot.core.query import TaskQuery, encode_query
    from bot.core.tasks import Status

    value = encode_query(TaskQuery(status=Status.FAILED, since=clock() - timedelta(days=2)))
    reply = await click(
        running_bot, {"action_id": ActionId.SHOW_FAILED.value, "type": "button", "value": value}
    )
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Failed tasks" in text_of(reply)


async def test_slash_command_payload_for_subscribe_uses_its_channel(running_bot):
    hook = running_bot.slack.new_response_url()
    body = slash_command("subscribe", response_url=hook).replace(b"C1", b"C0OPS2")
    await running_bot.post(body)
    await running_bot.slack.response_to(hook)
    assert [s.channel_id for s in await running_bot.store.all_subscriptions()] == ["C0OPS2"]


async def test_a_request_without_a_channel_never_means_every_channel(running_bot, clock):
    from bot.core.watch import Subscription

    elsewhere = Subscription("C0OPS2", "secret.example.com", None, "U0OPS0001", clock())
    await running_bot.store.subscribe(elsewhere)
    for text in ("subscriptions", "subscribe", "unsubscribe all"):
        hook = running_bot.slack.new_response_url()
        body = slash_command(text, response_url=hook).replace(b"channel_id=C1", b"channel_id=")
        await running_bot.post(body)
        (reply,) = await running_bot.slack.response_to(hook)
        assert "secret.example.com" not in text_of(reply) and "C0OPS2" not in text_of(reply)
        assert "names no channel" in reply["text"], text
    assert await running_bot.store.all_subscriptions() == [elsewhere]


async def test_stuck_notices_are_turned_off_and_on_again_and_said_in_the_channel(running_bot):
    quiet = await command(running_bot, "subscribe domain:www.example.com stuck:off")
    assert "failures only: no notices of tasks that stay unfinished" in quiet["text"]
    (announcement,) = running_bot.slack.posts_to("C1")
    assert "subscribed this channel to failed Alibaba Cloud CDN tasks" in announcement["text"]
    (stored,) = await running_bot.store.subscriptions("C1")
    assert stored.stuck is False
    listing = await command(running_bot, "subscriptions")
    assert "failures only (`stuck:off`)" in listing["text"]
    again = await command(running_bot, "subscribe domain:www.example.com stuck:off")
    assert "(failures only); nothing doubled" in again["text"]
    on = await command(running_bot, "subscribe domain:www.example.com")
    assert on["text"].startswith(":hourglass_flowing_sand: Stuck-task notices are on again for")
    said = running_bot.slack.posts_to("C1")[-1]["text"]
    assert said == (
        ":hourglass_flowing_sand: <@U0ANA1234> turned stuck-task notices on for "
        "`www.example.com` in this channel."
    )
    (switched,) = await running_bot.store.subscriptions("C1")
    assert switched.stuck is True and switched.added_at == stored.added_at
    assert "failures only" not in (await command(running_bot, "subscriptions"))["text"]
    off = await command(running_bot, "sub www.example.com stuck:off")
    assert "Stuck-task notices are off for `www.example.com`" in off["text"]
    assert len(running_bot.slack.posts_to("C1")) == 3


async def test_a_new_subscription_hears_of_stuck_tasks_unless_told_otherwise(running_bot):
    added = await command(running_bot, "subscribe domain:*.example.com")
    assert "and about tasks still unfinished long after they started" in added["text"]
    (announcement,) = running_bot.slack.posts_to("C1")
    assert (
        "subscribed this channel to failed and stuck Alibaba Cloud CDN tasks"
        in (announcement["text"])
    )
    narrower = await command(running_bot, "subscribe domain:www.example.com stuck:off")
    assert "Stuck tasks are still announced through the wider one." in narrower["text"]


async def test_show_on_a_stuck_notice_looks_the_task_up_for_the_viewer(running_bot, clock):
    from bot.core.tasks import Task
    from bot.slack.stuck_render import stuck_notice

    (task,) = running_bot.emulator.ledger.create(
        ["https://www.example.com/slow.js"], "file", clock() - timedelta(minutes=40)
    )
    seen = Task(task.task_id, task.object_path, "file", "Refreshing", 40, task.created)
    notice = stuck_notice([seen], now=clock()).payload()
    (actions,) = [b for b in notice["blocks"] if b["type"] == "actions"]
    show = next(e for e in actions["elements"] if e["text"]["text"] == "Show")
    reply = await click(
        running_bot, {"action_id": show["action_id"], "type": "button", "value": show["value"]}
    )
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert task.task_id in text_of(reply) and "slow.js" in text_of(reply)
