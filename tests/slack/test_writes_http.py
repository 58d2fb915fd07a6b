"""`/cdn refresh` and `/cdn prefetch` over signed HTTP: the private confirmation with today's
quota, the one click that submits, and every way a submission is refused or only partly made."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.cdn.emulator.faults import ApiFault
from bot.core.access import Allow, Policy
from bot.slack.render import ActionId
from tests.slack import world
from tests.slack.fake_slack import button_click
from tests.slack.limits import assert_inert, check_message
from tests.slack.test_http_app import buttons_of, command

WRITES = ("RefreshObjectCaches", "PushObjectCache")


def writes_of(emulator):
    return [call for call in emulator.calls if call.action in WRITES]


def text_of(reply):
    return json.dumps(reply, ensure_ascii=False)


async def press(bot, button, *, user="U0ANA1234"):
    """Click `button` and return the one answer it gets."""
    hook = bot.slack.new_response_url()
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    response = await bot.post(button_click(action, response_url=hook, user=user))
    assert response.status_code == 200
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    assert_inert(reply)
    return reply


async def confirmation(bot, text):
    reply = await command(bot, text)
    buttons = buttons_of(reply)
    assert set(buttons) == {ActionId.CONFIRM_WRITE, ActionId.CANCEL_WRITE}, text_of(reply)
    return reply, buttons[ActionId.CONFIRM_WRITE]


async def test_a_refresh_is_confirmed_with_the_quota_then_submitted(running_bot):
    bot, emulator = running_bot, running_bot.emulator
    urls = "https://www.example.com/a.js, https://www.example.com/b.css"
    reply, button = await confirmation(bot, f"refresh {urls}")
    assert button["text"]["text"] == "Refresh 2 URLs" and button["style"] == "primary"
    assert button["value"].startswith("U0ANA1234.")  # the confirmation's id, nothing else
    said = text_of(reply)
    assert "`www.example.com`: 2 URLs" in said and "https://www.example.com/a.js" in said
    assert "1 RefreshObjectCaches call" in said
    assert "URL refresh quota: *10,000* left → *9,998* after" in said
    assert reply["response_type"] == "ephemeral"
    assert writes_of(emulator) == []  # nothing before the click

    done = await press(bot, button)
    assert done["replace_original"] is True
    assert "<@U0ANA1234> submitted a refresh of 2 URLs" in done["text"]
    assert "2 tasks created" in done["text"]
    (call,) = emulator.calls_of("RefreshObjectCaches")
    assert call.params["ObjectPath"].split("\n") == [
        "https://www.example.com/a.js",
        "https://www.example.com/b.css",
    ]
    assert call.params["ObjectType"] == "File"


async def test_a_prefetch_names_its_area_and_its_quota(running_bot):
    reply, button = await confirmation(
        running_bot, "prefetch https://img.example.com/hero.png area:overseas"
    )
    assert button["text"]["text"] == "Prefetch 1 URL"
    assert "prefetch quota: *1,000* left → *999* after" in text_of(reply)
    await press(running_bot, button)
    (call,) = running_bot.emulator.calls_of("PushObjectCache")
    assert call.params["Area"] == "overseas"


async def test_confirming_twice_submits_once_and_names_who_and_when(running_bot):
    bot = running_bot
    _, button = await confirmation(bot, "refresh https://www.example.com/x.js")
    hooks = [bot.slack.new_response_url() for _ in range(2)]
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    bodies = [button_click(action, response_url=hook) for hook in hooks]
    # A double click (two at once), then a replay of the first click's very bytes.
    await asyncio.gather(bot.post(bodies[0]), bot.post(bodies[1]))
    await bot.post(bodies[0])
    replies = await bot.slack.response_to(hooks[0], count=2)
    replies += await bot.slack.response_to(hooks[1])
    assert len(bot.emulator.calls_of("RefreshObjectCaches")) == 1
    submitted = [r for r in replies if "submitted a refresh" in r["text"]]
    again = [r for r in replies if "Already submitted by @U0ANA1234 at " in r["text"]]
    assert len(submitted) == 1 and len(again) == 2
    assert all(r["replace_original"] is False for r in again)  # the result stays in view
    assert "CST" in again[0]["text"]  # in the clicker's own timezone


async def test_a_confirmation_survives_a_restart_and_still_submits_once(
    emulator, clock, fake_slack, tmp_path
):
    database = tmp_path / "bot.db"
    async with world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as bot:
        _, button = await confirmation(bot, "refresh https://www.example.com/restart.js")
    async with world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as bot:
        first = await press(bot, button)
        second = await press(bot, button)
    assert "submitted a refresh of 1 URL" in first["text"]
    assert "Already submitted" in second["text"]
    assert len(emulator.calls_of("RefreshObjectCaches")) == 1


async def test_an_expired_or_unknown_confirmation_says_so(running_bot):
    bot = running_bot
    _, button = await confirmation(bot, "refresh https://www.example.com/late.js")
    bot.clock.advance(minutes=16)
    assert "has expired" in (await press(bot, button))["text"]
    assert "has expired" in (await press(bot, button))["text"]  # and stays so
    unknown = {**button, "value": "U0ANA1234.not-a-real-one"}
    assert "unknown" in (await press(bot, unknown))["text"]
    assert writes_of(bot.emulator) == []


async def test_confirmations_long_past_clicking_are_forgotten(running_bot):
    bot = running_bot
    _, old = await confirmation(bot, "refresh https://www.example.com/old.js")
    bot.clock.advance(days=2)
    await confirmation(bot, "refresh https://www.example.com/new.js")  # tidies up as it saves
    assert "unknown" in (await press(bot, old))["text"]  # gone from the store, not just expired


async def test_only_the_person_who_asked_can_confirm(running_bot):
    bot = running_bot
    _, button = await confirmation(bot, "refresh https://www.example.com/mine.js")
    refused = await press(bot, button, user="U0OTHER01")
    assert "made for someone else" in refused["text"]
    assert writes_of(bot.emulator) == []
    assert "submitted a refresh" in (await press(bot, button))["text"]  # still the owner's


async def test_cancel_submits_nothing(running_bot):
    reply, _ = await confirmation(running_bot, "refresh https://www.example.com/no.js")
    cancelled = await press(running_bot, buttons_of(reply)[ActionId.CANCEL_WRITE])
    assert cancelled["replace_original"] is True and "Cancelled" in cancelled["text"]
    assert writes_of(running_bot.emulator) == []


@pytest.mark.policy(Policy(scopes={"C1": ("www.example.com",)}))
async def test_a_scoped_channel_cannot_refresh_another_domain(running_bot):
    reply = await command(
        running_bot, "refresh https://img.example.com/a.png https://www.example.com/b.js"
    )
    assert "may not refresh or prefetch img.example.com here" in reply["text"]
    assert "This channel may refresh or prefetch `www.example.com` only" in reply["text"]
    assert writes_of(running_bot.emulator) == []
    assert running_bot.emulator.calls_of("DescribeRefreshQuota") == []  # refused before any call
    await confirmation(running_bot, "refresh https://www.example.com/b.js")  # its own is fine


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_people_who_may_not_manage_are_refused(running_bot):
    reply = await command(running_bot, "refresh https://www.example.com/a.js")
    assert "may not refresh or prefetch CDN content here" in reply["text"]
    assert "Ask #cdn-admins" in reply["text"]
    assert writes_of(running_bot.emulator) == []
    assert running_bot.emulator.calls_of("DescribeRefreshQuota") == []


async def test_without_enough_quota_it_is_refused_with_the_numbers(running_bot):
    running_bot.emulator.ledger.quotas["Url"] = 1
    reply = await command(
        running_bot, "refresh https://www.example.com/a.js https://www.example.com/b.js"
    )
    assert "needs 2 of today's URL refresh quota, and 1 is left" in reply["text"]
    assert buttons_of(reply) == {}
    assert writes_of(running_bot.emulator) == []


async def test_quota_is_checked_again_at_the_click(running_bot):
    _, button = await confirmation(running_bot, "refresh https://www.example.com/d/ type:dir")
    running_bot.emulator.ledger.quotas["Dir"] = 0
    reply = await press(running_bot, button)
    assert reply["replace_original"] is True  # the confirmation gives way to the refusal
    assert "Not submitted" in reply["text"] and "1 of today's directory refresh" in reply["text"]
    assert writes_of(running_bot.emulator) == []


async def test_a_click_that_could_not_read_the_quota_can_be_pressed_again(running_bot):
    _, button = await confirmation(running_bot, "refresh https://www.example.com/again.js")
    failures = [ApiFault(503, "ServiceUnavailable", "busy")] * 4  # past the client's retries
    running_bot.emulator.script("DescribeRefreshQuota", *failures)
    first = await press(running_bot, button)
    assert "Alibaba Cloud CDN" in first["text"] and writes_of(running_bot.emulator) == []
    second = await press(running_bot, button)  # nothing was sent: not "already submitted"
    assert "Already submitted" not in second["text"]
    assert len(writes_of(running_bot.emulator)) == 1


async def test_bad_input_gets_a_hint_and_no_confirmation(running_bot):
    reply = await command(running_bot, "refresh https://www.example.com/static type:dir")
    assert "a directory ends with `/`" in reply["text"]
    assert buttons_of(reply) == {}
    assert running_bot.emulator.calls_of("DescribeRefreshQuota") == []


def urls(count, *, host="www.example.com"):
    return " ".join(f"https://{host}/f/{n}.js" for n in range(count))


async def test_2500_urls_go_out_in_three_calls(running_bot):
    reply, button = await confirmation(running_bot, f"refresh {urls(2500)}")
    assert "3 RefreshObjectCaches calls" in text_of(reply)
    assert button["text"]["text"] == "Refresh 2,500 URLs"
    done = await press(running_bot, button)
    sizes = [
        len(c.params["ObjectPath"].split("\n"))
        for c in running_bot.emulator.calls_of("RefreshObjectCaches")
    ]
    assert sizes == [1000, 1000, 500]
    assert "2,500 tasks created" in done["text"]


async def test_a_partial_failure_says_exactly_what_went_in(running_bot, monkeypatch, caplog):
    ledger = running_bot.emulator.ledger
    _, button = await confirmation(running_bot, f"refresh {urls(2500)}")
    # Someone else spends the quota between the check at the click and the calls: the answer
    # of DescribeRefreshQuota is stale by the time the second call arrives.
    ledger.quotas["Url"] = 1500
    real = ledger.quota
    monkeypatch.setattr(ledger, "quota", lambda now: {**real(now), "Url": (10_000, 10_000)})
    with caplog.at_level(logging.INFO, logger="bot.audit"):
        reply = await press(running_bot, button)
    said = text_of(reply)
    assert "Partly submitted: 1,000 URLs of 2,500 went in (1,000 tasks); 1,500 URLs did not" in said
    assert "Today's refresh quota of the Alibaba Cloud account is used up" in said
    assert "*Went in (1,000):*\\n• https://www.example.com/f/0.js" in said
    assert "*Did not go in (1,500):*\\n• https://www.example.com/f/1000.js" in said
    calls = running_bot.emulator.calls_of("RefreshObjectCaches")
    assert [c.code for c in calls] == ["", "QuotaExceeded.Refresh"]  # the third never sent
    (audit,) = [
        entry
        for entry in (json.loads(record.getMessage()) for record in caplog.records)
        if entry["kind"] == "action"
    ]
    assert audit["outcome"] == "partial: QuotaExceeded.Refresh"
    assert audit["extra"]["accepted"] == "1000" and audit["extra"]["refused"] == "1500"
    assert len(audit["extra"]["task_ids"].split(",")) == 1000
    assert len(audit["request_ids"]) == 2
    assert (
        "refresh File x2500 (www.example.com 2500): https://www.example.com/f/0.js"
        in (audit["detail"])
    )
