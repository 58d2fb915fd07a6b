"""The playground's App Home and shortcuts without a browser: opening the Home tab sends the
bot a signed app_home_opened event; views.publish shows the view (checked as Slack checks
it); its clicks, "Check CDN tasks" on a message and "New CDN refresh" reach the bot shaped
like Slack's; the Web API lists the person's channels and takes a user ID for the DM."""

from __future__ import annotations

import pytest
from slack_bolt.request import payload_utils

from bot.core.submission import Action
from bot.playground.home import HomeTab
from bot.playground.modals import ViewRefused, state_values
from bot.playground.server import APP_DM, USER_ID
from bot.slack.modals import FormBlock, write_form
from bot.slack.render import ActionId

BOT = {"Authorization": "Bearer xoxb-t"}
HOME = {
    "type": "home",
    "callback_id": "cdn_home",
    "private_metadata": '{"channel": "D0CDNBOT1"}',
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


async def test_opening_the_home_sends_a_signed_event_and_a_publish_shows_the_view(world):
    play, http, bot, _ = world
    opened = await http.post("/playground/home", json={"tz": "Asia/Tokyo"})
    assert opened.json() == {"status": 200, "view": None}
    event = bot.received[-1]
    assert payload_utils.is_event(event) and event["event"]["type"] == "app_home_opened"
    assert (event["event"]["user"], event["event"]["channel"]) == (USER_ID, APP_DM)
    assert event["event"]["tab"] == "home" and play.user_tz == "Asia/Tokyo"

    published = await http.post(
        "/api/views.publish", json={"user_id": USER_ID, "view": HOME}, headers=BOT
    )
    assert published.json()["ok"] and play.home.view["blocks"] == HOME["blocks"]
    events = (await http.get("/playground/events", params={"after": 0})).json()
    assert events[-1]["home"]["callback_id"] == "cdn_home"
    # The next open carries the view Slack shows, and a new event ID.
    await http.post("/playground/home", json={})
    again = bot.received[-1]
    assert again["event"]["view"]["id"] == play.home.view["id"]
    assert again["event_id"] != event["event_id"]


@pytest.mark.parametrize(
    ("user", "view", "error"),
    [
        ("U0SOMEONE", HOME, "user_not_found"),
        (USER_ID, {**HOME, "type": "modal"}, "invalid_arguments"),
        (USER_ID, {**HOME, "blocks": HOME["blocks"] * 101}, "invalid_arguments"),
        (USER_ID, {**HOME, "private_metadata": "x" * 3001}, "invalid_arguments"),
        (
            USER_ID,
            {**HOME, "blocks": [{"type": "section", "text": "x" * 300_000}]},
            "view_too_large",
        ),
    ],
)
def test_a_home_slack_would_refuse_is_refused(user, view, error):
    home = HomeTab(user_id=USER_ID, channel=APP_DM)
    with pytest.raises(ViewRefused) as refused:
        home.publish(user, view)
    assert refused.value.error == error and home.view is None


async def test_a_click_on_the_home_reaches_the_bot_with_the_view(world):
    play, http, bot, _ = world
    nothing = await http.post("/playground/action", json={"home": True, "action_id": "x"})
    assert nothing.status_code == 400  # no Home yet
    await http.post("/api/views.publish", json={"user_id": USER_ID, "view": HOME}, headers=BOT)
    click = {"home": True, "action_id": ActionId.HOME_RELOAD, "value": "home", "type": "button"}
    assert (await http.post("/playground/action", json=click)).json() == {"status": 200}
    body = bot.received[-1]
    assert payload_utils.is_block_actions(body) and "response_url" not in body
    assert body["view"]["private_metadata"] == HOME["private_metadata"]
    assert body["actions"][0]["action_id"] == ActionId.HOME_RELOAD
    # Its trigger opens a modal (the form the Home's buttons lead to).
    view = write_form(Action.REFRESH, channel=APP_DM)
    opened = await http.post(
        "/api/views.open", json={"trigger_id": body["trigger_id"], "view": view}, headers=BOT
    )
    assert opened.json()["ok"]
    assert play.modals.views[opened.json()["view"]["id"]].channel == APP_DM


async def test_check_cdn_tasks_sends_the_message_as_slack_would(world):
    play, http, bot, _ = world
    text = "shipped https://www.example.com/a.js & <done>"
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": text})
    (message,) = play.messages.values()
    shortcut = {"channel": "C0GENERAL", "message": message.id, "callback_id": "cdn_check_links"}
    assert (await http.post("/playground/shortcut", json=shortcut)).json() == {"status": 200}
    body = bot.received[-1]
    assert payload_utils.is_message_shortcut(body) and body["callback_id"] == "cdn_check_links"
    assert body["message"]["text"] == "shipped https://www.example.com/a.js &amp; &lt;done&gt;"
    assert body["message"]["user"] == USER_ID and body["channel"]["id"] == "C0GENERAL"
    # Its response_url answers privately in that channel.
    hook = body["response_url"].rsplit("/", 1)[1]
    await http.post(f"/playground/respond/{hook}", json={"text": "tasks", "blocks": []})
    answer = next(m for m in play.messages.values() if m.text == "tasks")
    assert answer.ephemeral and answer.channel == "C0GENERAL"
    wrong = {**shortcut, "channel": "C0CDNOPS1"}  # not that channel's message
    assert (await http.post("/playground/shortcut", json=wrong)).status_code == 400


async def test_new_cdn_refresh_is_a_global_shortcut_whose_form_picks_a_channel(world):
    _, http, bot, _ = world
    shortcut = {"channel": "C0CDNOPS1", "callback_id": "cdn_new_refresh"}
    await http.post("/playground/shortcut", json=shortcut)
    body = bot.received[-1]
    assert payload_utils.is_global_shortcut(body) and "channel" not in body
    view = write_form(Action.REFRESH, channel=None)
    opened = await http.post(
        "/api/views.open", json={"trigger_id": body["trigger_id"], "view": view}, headers=BOT
    )
    view_id = opened.json()["view"]["id"]
    inputs = {FormBlock.CHANNEL: "C0GENERAL", FormBlock.URLS: "https://www.example.com/a.js"}
    await http.post("/playground/view", json={"view": view_id, "inputs": inputs})
    values = bot.received[-1]["view"]["state"]["values"]
    assert values[FormBlock.CHANNEL][ActionId.WRITE_CHANNEL] == {
        "type": "conversations_select",
        "selected_conversation": "C0GENERAL",
    }


def test_only_a_known_conversation_can_be_picked():
    view = write_form(Action.REFRESH, channel=None)
    picked = state_values(view, {FormBlock.CHANNEL: "C0EVIL"}, conversations=frozenset({"C1"}))
    assert picked[FormBlock.CHANNEL][ActionId.WRITE_CHANNEL]["selected_conversation"] is None


async def test_the_web_api_lists_the_persons_channels_and_takes_a_user_id_for_the_dm(world):
    play, http, _, _ = world
    listed = await http.post("/api/users.conversations", json={"user": USER_ID}, headers=BOT)
    ids = [channel["id"] for channel in listed.json()["channels"]]
    assert ids == ["C0GENERAL", "C0CDNOPS1"]  # not the private channel the bot is not in
    play.channels["G0SECRET1"].bot_member = True
    listed = await http.post("/api/users.conversations", json={"user": USER_ID}, headers=BOT)
    assert "G0SECRET1" in [channel["id"] for channel in listed.json()["channels"]]
    posted = await http.post(
        "/api/chat.postMessage", json={"channel": USER_ID, "text": "to you"}, headers=BOT
    )
    assert posted.json()["channel"] == APP_DM
    assert [m.channel for m in play.messages.values()] == [APP_DM]
    page = (await http.get("/")).text
    assert 'data-app="home"' in page and "cdn-task-bot" in page
