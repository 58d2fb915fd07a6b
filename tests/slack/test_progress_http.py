"""Progress over signed HTTP: one message per submission, kept up to date within Slack's limits
to its end (or its cap), the private reply where the bot cannot post, Retry failed and Show
failed on the final state, and Retry on failure notifications."""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import replace

from bot.core.progress import Window
from bot.core.tasks import Task
from bot.leader import Leadership
from bot.slack import alerts, wire
from bot.slack.render import ActionId
from tests.slack import world
from tests.slack.fake_slack import TRIGGER_ID, button_click, sender
from tests.slack.limits import assert_inert, check_message
from tests.slack.test_http_app import buttons_of, paths_of
from tests.slack.test_writes_http import confirmation, press

ANA = sender()
FAILING = re.compile("/broken/")


def text_of(message):
    return json.dumps(message, ensure_ascii=False)


def updates(bot):
    return bot.slack.calls_of("chat.update")


async def follow(bot, *, seconds=10, steps=40):
    """Let the clock run in `seconds` steps, a tracker cycle each, until nothing is followed;
    each step's (seconds since the start, updates so far)."""
    seen = []
    for step in range(1, steps + 1):
        bot.clock.advance(seconds=seconds)
        await bot.tracker.cycle()  # the first one resumes what the store holds
        seen.append((step * seconds, len(updates(bot))))
        if not bot.tracker.followed:
            break
    assert not bot.tracker.followed, "still following after every step"
    return seen


async def submitted(bot, text):
    """Confirm `/cdn text`; the answer the confirmation got."""
    _, button = await confirmation(bot, text)
    return await press(bot, button)


async def test_one_message_follows_the_tasks_to_the_end(running_bot):
    bot = running_bot
    bot.emulator.ledger.fail_pattern = FAILING
    await submitted(bot, "refresh https://www.example.com/a.js https://www.example.com/broken/b.js")
    (post,) = bot.slack.posts_to("C1")
    check_message(post)
    assert "<@U0ANA1234> refreshed 2 URLs on www.example.com" in post["text"]
    assert "⏳ 2 pending" in text_of(post)

    seen = await follow(bot, seconds=5)
    changes = [
        at for (_, before), (at, count) in itertools.pairwise([(0, 0), *seen]) if count > before
    ]
    assert changes, seen
    # At most one change per message every 10 s.
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(changes)), changes
    every = updates(bot)
    assert {u["ts"] for u in every} == {post["_ts"]} and {u["channel"] for u in every} == {"C1"}
    for update in every:
        check_message(update)
        assert update["text"] and update["blocks"]  # always the full message
    final = every[-1]
    assert "✅ 1 complete · ❌ 1 failed — 100%" in text_of(final)
    assert "https://www.example.com/broken/b.js" in text_of(final)
    (task,) = [t for t in bot.emulator.ledger.visible(bot.clock()) if "/broken/" in t.object_path]
    reason = {"Internal Error": "Internal error", "Origin Timeout": "Origin timeout"}
    assert reason.get(str(task.failure), "Origin 5xx") in text_of(final)
    assert set(buttons_of(final)) == {ActionId.RETRY_FAILED, ActionId.SHOW_FAILED}

    # Finished: more time changes nothing.
    bot.clock.advance(minutes=5)
    assert await bot.tracker.cycle() == 0
    assert len(updates(bot)) == len(every)


async def test_nothing_changed_means_no_update(running_bot):
    bot = running_bot
    bot.emulator.ledger.task_seconds = 1200  # pending for the first two minutes
    await submitted(bot, "refresh https://www.example.com/slow.js")
    for _ in range(6):
        bot.clock.advance(seconds=10)
        await bot.tracker.cycle()
    assert updates(bot) == []
    assert len(bot.emulator.calls_of("DescribeRefreshTaskById")) == 6


async def test_a_final_state_waiting_for_room_reads_its_tasks_no_more(running_bot):
    bot = running_bot
    await submitted(bot, "refresh https://www.example.com/done.js")
    bot.tracker.window = Window(limit=0)  # the app's update budget is spent elsewhere
    for _ in range(30):
        bot.clock.advance(seconds=10)
        await bot.tracker.cycle()
    reads = len(bot.emulator.calls_of("DescribeRefreshTaskById"))
    for _ in range(60):  # a minute of cycles while the final state waits
        bot.clock.advance(seconds=1)
        await bot.tracker.cycle()
    assert len(bot.emulator.calls_of("DescribeRefreshTaskById")) == reads
    bot.tracker.window = Window()
    bot.clock.advance(seconds=1)
    assert await bot.tracker.cycle() == 1  # shown once there is room, then followed no more
    assert not bot.tracker.followed and "100%" in text_of(updates(bot)[-1])


async def test_retry_failed_confirms_exactly_the_failed_paths_with_their_kind(running_bot):
    bot = running_bot
    bot.emulator.ledger.fail_pattern = FAILING
    await submitted(
        bot,
        "refresh type:dir force https://www.example.com/ok/ https://www.example.com/broken/",
    )
    await follow(bot)
    buttons = buttons_of(updates(bot)[-1])

    shown = await press(bot, buttons[ActionId.SHOW_FAILED])
    assert shown["response_type"] == "ephemeral" and shown["replace_original"] is False
    assert paths_of(shown) == ["https://www.example.com/broken/"]

    looked_up = len(bot.emulator.calls_of("DescribeRefreshTaskById"))
    again = await press(bot, buttons[ActionId.RETRY_FAILED])
    assert again["replace_original"] is False  # the progress message stays for everyone
    # Only the failed task is read again, however large the submission was.
    (read,) = bot.emulator.calls_of("DescribeRefreshTaskById")[looked_up:]
    assert "," not in read.params["TaskId"]
    confirm = buttons_of(again)[ActionId.CONFIRM_WRITE]
    assert confirm["text"]["text"] == "Refresh 1 directory"
    assert "https://www.example.com/broken/" in text_of(again)
    assert "https://www.example.com/ok/" not in text_of(again)
    await press(bot, confirm)
    _, retry = bot.emulator.calls_of("RefreshObjectCaches")
    assert retry.params["ObjectPath"] == "https://www.example.com/broken/"
    assert (retry.params["ObjectType"], retry.params["Force"]) == ("Directory", "true")


async def test_retry_from_a_notification_confirms_each_kind(running_bot):
    bot = running_bot
    ledger = bot.emulator.ledger
    ledger.fail_pattern = FAILING
    made = [
        *ledger.create(["https://img.example.com/broken/1.png"], "file", bot.clock()),
        *ledger.create(["https://img.example.com/broken/2.png"], "preload", bot.clock()),
    ]
    bot.clock.advance(seconds=ledger.task_seconds + 1)
    tasks = [
        Task(t.task_id, t.object_path, t.object_type, "Failed", 0, t.created, t.failure)
        for t in made
    ]
    notice = alerts.failure_notice(tasks, now=bot.clock()).payload()
    retry = [
        e for b in notice["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]  # the Retry button sits beside Show failed tasks and Mute
    (button,) = [e for e in retry if e["action_id"] == ActionId.RETRY_TASKS]
    assert button["text"]["text"] == "Retry all failed"

    hook = bot.slack.new_response_url()
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    await bot.post(button_click(action, response_url=hook))
    replies = await bot.slack.response_to(hook, count=2)
    for reply in replies:
        check_message(reply)
        assert_inert(reply)
    labels = sorted(buttons_of(r)[ActionId.CONFIRM_WRITE]["text"]["text"] for r in replies)
    assert labels == ["Prefetch 1 URL", "Refresh 1 URL"]
    prefetch = next(r for r in replies if "Prefetch" in text_of(r))
    await press(bot, buttons_of(prefetch)[ActionId.CONFIRM_WRITE])
    (push,) = bot.emulator.calls_of("PushObjectCache")
    assert push.params["ObjectPath"] == "https://img.example.com/broken/2.png"


async def test_a_damaged_retry_button_is_refused_politely(running_bot):
    reply = await press(
        running_bot, {"action_id": ActionId.RETRY_TASKS.value, "value": "1,<!channel>"}
    )
    assert "this Retry button is damaged" in reply["text"]
    assert running_bot.emulator.calls_of("DescribeRefreshTaskById") == []


async def _submitted_from(bot, sender, text):
    """`/cdn text` confirmed by `sender` in their channel; the confirm click's response_url."""
    hook = bot.slack.new_response_url()
    body = wire.command_body(sender, text, response_url=hook, trigger_id=TRIGGER_ID)
    await bot.post(body)
    (reply,) = await bot.slack.response_to(hook)
    button = buttons_of(reply)[ActionId.CONFIRM_WRITE]
    clicked = bot.slack.new_response_url()
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    await bot.post(
        wire.block_actions_body(
            sender, action, response_url=clicked, trigger_id=TRIGGER_ID, action_ts=str(time.time())
        )
    )
    await bot.slack.response_to(clicked)  # the confirmation's own answer
    return clicked


async def _progress_in_private_reply(bot, sender):
    bot.emulator.ledger.fail_pattern = FAILING
    text = "refresh https://www.example.com/c.js https://www.example.com/broken/d.js"
    hook = await _submitted_from(bot, sender, text)
    await follow(bot)
    replies = await bot.slack.response_to(hook)
    assert 2 <= len(replies) <= 4  # the confirmation's answer, then at most 3 for progress
    progress = replies[1:]
    assert all(r["replace_original"] is True for r in progress)
    for reply in progress:
        check_message(reply)
    assert "refreshed 2 URLs on www.example.com" in progress[0]["text"]
    assert "https://www.example.com/broken/d.js" in text_of(progress[-1])
    assert ActionId.RETRY_FAILED in buttons_of(progress[-1])
    assert updates(bot) == []


async def test_where_the_bot_cannot_post_progress_goes_to_the_private_reply(running_bot):
    running_bot.slack.channel_errors["C1"] = "not_in_channel"
    await _progress_in_private_reply(running_bot, ANA)
    assert running_bot.slack.posts_to("C1") == []


async def test_in_a_direct_message_progress_goes_to_the_private_reply(running_bot):
    await _progress_in_private_reply(running_bot, replace(ANA, channel_id="D0ANA1234"))
    assert running_bot.slack.calls_of("chat.postMessage") == []


async def test_following_stops_at_the_cap_and_says_so(running_bot):
    bot = running_bot
    bot.emulator.ledger.task_seconds = 4 * 3600
    await submitted(bot, "refresh https://www.example.com/forever.js")
    seen = await follow(bot, seconds=60, steps=31)
    assert seen[-1][0] == 30 * 60
    final = updates(bot)[-1]
    assert "stopped following after 30 min with 1 unfinished" in text_of(final)
    # The message changed far less often than the tasks were looked at.
    assert len(updates(bot)) <= 30


async def test_a_restart_resumes_following(emulator, clock, fake_slack, tmp_path):
    database = tmp_path / "bot.db"
    async with world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as bot:
        await submitted(bot, "refresh https://www.example.com/resume.js")
        (post,) = fake_slack.posts_to("C1")
    clock.advance(minutes=1)
    async with world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as bot:
        await follow(bot, steps=10)
    final = updates(bot)[-1]
    assert final["ts"] == post["_ts"] and "✅ 1 complete — 100%" in text_of(final)


async def test_tasks_that_ended_are_not_read_again(running_bot):
    bot = running_bot
    await submitted(bot, "refresh https://www.example.com/fast.js https://www.example.com/slow.js")
    ledger = bot.emulator.ledger
    # Make one task take far longer than the other (tasks of one call share a duration).
    tasks = ledger._tasks
    (index,) = [n for n, t in enumerate(tasks) if t.object_path.endswith("/slow.js")]
    tasks[index] = replace(tasks[index], duration=100_000)
    for _ in range(12):
        bot.clock.advance(seconds=10)
        await bot.tracker.cycle()
    asked = [call.params["TaskId"] for call in bot.emulator.calls_of("DescribeRefreshTaskById")]
    assert "," in asked[0]  # both at first
    assert "," not in asked[-1] and asked[-1] == tasks[index].task_id  # then only the slow one


async def test_only_the_leader_follows_and_it_adopts_what_another_replica_started(
    emulator, clock, fake_slack, tmp_path
):
    database = tmp_path / "bot.db"
    replicas = {"clock": clock, "emulator": emulator, "slack": fake_slack}
    async with (
        world.running_bot(database, holder="leader", **replicas) as leader,
        world.running_bot(database, holder="standby", **replicas) as standby,
    ):
        assert leader.leadership.leading and not standby.leadership.leading
        await submitted(standby, "refresh https://www.example.com/adopted.js")
        (post,) = fake_slack.posts_to("C1")  # the first message comes from where it was asked
        clock.advance(seconds=10)
        assert await standby.tracker.cycle() == 0 and not standby.tracker.followed
        await follow(leader, steps=10)
        assert not standby.tracker.followed
    final = updates(leader)[-1]
    assert final["ts"] == post["_ts"] and "✅ 1 complete — 100%" in text_of(final)


async def test_a_leader_that_lost_the_lease_writes_no_progress_back(
    emulator, clock, fake_slack, tmp_path
):
    database = tmp_path / "bot.db"
    replicas = {"clock": clock, "emulator": emulator, "slack": fake_slack}
    async with world.running_bot(database, holder="old", **replicas) as old:
        await submitted(old, "refresh https://www.example.com/paused.js")
        (followed,) = old.tracker.followed
        # The lease moves on while the old leader is paused; it still believes it leads.
        await old.store.release_lease(old.leadership.fence)
        assert await Leadership(old.store, holder="new", lease=60).renew() is not None
        clock.advance(seconds=60)
        await old.tracker.cycle()
        assert await old.store.tracked(followed.id) == followed  # nothing written back
        assert not old.tracker.followed
