"""The playground's modals and message updates without a browser: views.open with a trigger
that works once for three seconds, submissions that reach the bot signed and shaped like
Slack's, its errors answered under the fields, chat.update and chat.postEphemeral."""

from __future__ import annotations

import json

import pytest
from slack_bolt.request import payload_utils

from bot.core.submission import Action
from bot.playground.modals import Modals, ViewRefused, state_values
from bot.playground.server import USER_ID
from bot.slack.modals import FormBlock, write_form
from bot.slack.render import ActionId
from tests.playground.conftest import Clock

BOT = {"Authorization": "Bearer xoxb-t"}


async def open_form(http, bot, *, channel="C0CDNOPS1"):
    """`/cdn refresh` typed in `channel`, and the bot opening the form with its trigger."""
    await http.post("/playground/command", json={"channel": channel, "text": "/cdn refresh"})
    trigger = bot.received[-1]["trigger_id"]
    view = write_form(Action.REFRESH, channel=channel)
    return await http.post(
        "/api/views.open", json={"trigger_id": trigger, "view": view}, headers=BOT
    ), trigger


async def test_views_open_shows_the_modal_once_per_trigger(world):
    play, http, bot, _ = world
    opened, trigger = await open_form(http, bot)
    assert opened.json()["ok"]
    view_id = opened.json()["view"]["id"]
    assert play.modals.views[view_id].channel == "C0CDNOPS1"
    events = (await http.get("/playground/events", params={"after": 0})).json()
    shown = [e["view"] for e in events if "view" in e]
    assert [v["id"] for v in shown] == [view_id]
    assert shown[0]["title"]["text"] == "CDN refresh"
    again = await http.post(
        "/api/views.open", json={"trigger_id": trigger, "view": shown[0]}, headers=BOT
    )
    assert again.json() == {"ok": False, "error": "invalid_trigger_id"}


async def test_a_trigger_lasts_three_seconds(world):
    _, http, bot, clock = world
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": "/cdn refresh"})
    clock.now += 3.5
    late = await http.post(
        "/api/views.open",
        json={
            "trigger_id": bot.received[-1]["trigger_id"],
            "view": write_form(Action.REFRESH, channel="C0GENERAL"),
        },
        headers=BOT,
    )
    assert late.json() == {"ok": False, "error": "expired_trigger_id"}


async def test_a_view_slack_would_refuse_is_refused(world):
    _, http, bot, _ = world
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": "/cdn refresh"})
    view = {
        **write_form(Action.REFRESH, channel="C"),
        "title": {"type": "plain_text", "text": "x" * 25},
    }
    answer = await http.post(
        "/api/views.open",
        data={"trigger_id": bot.received[-1]["trigger_id"], "view": json.dumps(view)},
        headers=BOT,
    )
    assert answer.json() == {"ok": False, "error": "invalid_arguments"}


async def test_a_submission_reaches_the_bot_and_its_errors_come_back(world):
    play, http, bot, _ = world
    opened, _ = await open_form(http, bot)
    view_id = opened.json()["view"]["id"]
    bot.ack = {"response_action": "errors", "errors": {FormBlock.URLS: "add the scheme"}}
    inputs = {
        FormBlock.URLS: "www.example.com/a.js",
        FormBlock.KIND: "dir",
        FormBlock.FORCE: ["force"],
    }
    answer = (await http.post("/playground/view", json={"view": view_id, "inputs": inputs})).json()
    assert answer == {"status": 200, "errors": {FormBlock.URLS: "add the scheme"}, "closed": False}
    body = bot.received[-1]
    assert payload_utils.is_view_submission(body)
    assert body["user"]["id"] == USER_ID and body["view"]["id"] == view_id
    values = body["view"]["state"]["values"]
    assert values[FormBlock.URLS][ActionId.WRITE_URLS] == {
        "type": "plain_text_input",
        "value": "www.example.com/a.js",
    }
    assert values[FormBlock.KIND][ActionId.WRITE_KIND]["selected_option"]["value"] == "dir"
    assert [
        o["value"] for o in values[FormBlock.FORCE][ActionId.WRITE_FORCE]["selected_options"]
    ] == ["force"]
    assert view_id in play.modals.views  # still open, showing the error

    bot.ack = None  # an empty ack closes the modal
    closed = (await http.post("/playground/view", json={"view": view_id, "inputs": inputs})).json()
    assert closed == {"status": 200, "errors": {}, "closed": True}
    assert view_id not in play.modals.views
    events = (await http.get("/playground/events", params={"after": 0})).json()
    assert {"view_closed": view_id} in [{k: v for k, v in e.items() if k != "seq"} for e in events]


async def test_cancel_forgets_the_view_and_unknown_views_are_refused(world):
    play, http, bot, _ = world
    opened, _ = await open_form(http, bot)
    view_id = opened.json()["view"]["id"]
    assert (await http.post("/playground/view/close", json={"view": view_id})).status_code == 200
    assert play.modals.views == {}
    gone = await http.post("/playground/view", json={"view": view_id, "inputs": {}})
    assert gone.status_code == 400


def test_state_keeps_only_what_the_view_offers():
    view = write_form(Action.REFRESH, channel="C1")
    values = state_values(
        view,
        {
            FormBlock.URLS: "x" * 4000,
            FormBlock.KIND: "not-an-option",
            FormBlock.FORCE: ["force", "more"],
            "elsewhere": "y",
        },
    )
    assert len(values[FormBlock.URLS][ActionId.WRITE_URLS]["value"]) == 3000
    assert values[FormBlock.KIND][ActionId.WRITE_KIND]["selected_option"] is None
    assert len(values[FormBlock.FORCE][ActionId.WRITE_FORCE]["selected_options"]) == 1
    assert "elsewhere" not in values
    empty = state_values(view, {})
    assert empty[FormBlock.URLS][ActionId.WRITE_URLS]["value"] is None


def test_views_and_triggers_are_bounded(monkeypatch):
    from bot.playground import modals

    monkeypatch.setattr(modals, "MAX_VIEWS", 2)
    monkeypatch.setattr(modals, "MAX_TRIGGERS", 3)
    keeper = Modals(clock=Clock())
    triggers = [keeper.trigger("C1") for _ in range(5)]
    assert len(keeper._triggers) == 3
    with pytest.raises(ViewRefused):
        keeper.open(triggers[0], write_form(Action.REFRESH, channel="C1"))
    for trigger in triggers[2:]:
        keeper.open(trigger, write_form(Action.REFRESH, channel="C1"))
    assert len(keeper.views) == 2


async def test_chat_update_replaces_the_message_in_place(world):
    play, http, _, _ = world
    posted = await http.post(
        "/api/chat.postMessage", json={"channel": "C0GENERAL", "text": "0 of 2 done"}, headers=BOT
    )
    ts = posted.json()["ts"]
    updated = await http.post(
        "/api/chat.update",
        json={"channel": "C0GENERAL", "ts": ts, "text": "2 of 2 done", "blocks": []},
        headers=BOT,
    )
    assert updated.json()["ok"]
    (message,) = play.messages.values()
    assert (message.text, message.ts) == ("2 of 2 done", ts)
    events = (await http.get("/playground/events", params={"after": 0})).json()
    assert [e["message"]["id"] for e in events] == [message.id, message.id]
    missing = await http.post(
        "/api/chat.update", json={"channel": "C0GENERAL", "ts": "1.0", "text": "x"}, headers=BOT
    )
    assert missing.json()["error"] == "message_not_found"
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": "hello"})
    mine = next(m for m in play.messages.values() if m.author == "you")
    theirs = await http.post(
        "/api/chat.update", json={"channel": "C0GENERAL", "ts": mine.ts, "text": "x"}, headers=BOT
    )
    assert theirs.json()["error"] == "cant_update_message"


async def test_chat_post_ephemeral_shows_a_private_message(world):
    play, http, _, _ = world
    answer = await http.post(
        "/api/chat.postEphemeral",
        data={"channel": "C0GENERAL", "user": USER_ID, "text": "confirm?", "blocks": "[]"},
        headers=BOT,
    )
    assert answer.json()["ok"] and answer.json()["message_ts"]
    (message,) = play.messages.values()
    assert message.ephemeral and message.author == "bot" and message.text == "confirm?"
    secret = await http.post(
        "/api/chat.postEphemeral",
        json={"channel": "G0SECRET1", "user": USER_ID, "text": "x"},
        headers=BOT,
    )
    assert secret.json()["error"] == "not_in_channel"
    stranger = await http.post(
        "/api/chat.postEphemeral",
        json={"channel": "C0GENERAL", "user": "U0OTHER", "text": "x"},
        headers=BOT,
    )
    assert stranger.json()["error"] == "user_not_in_channel"


async def test_a_submission_the_bot_fails_keeps_the_modal_open(world):
    play, http, bot, _ = world
    opened, _ = await open_form(http, bot)
    view_id = opened.json()["view"]["id"]
    answer = await http.post(
        "/playground/view", json={"view": view_id, "inputs": {}}, headers={"Origin": "x"}
    )
    assert answer.status_code == 403  # still the page's own call only
    play._secret = "not-the-bots-secret"  # the bot refuses what it cannot verify
    refused = (await http.post("/playground/view", json={"view": view_id, "inputs": {}})).json()
    assert refused == {"status": 401, "errors": {}, "closed": False}
    assert view_id in play.modals.views
