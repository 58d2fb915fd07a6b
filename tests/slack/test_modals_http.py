"""The refresh/prefetch form over signed HTTP: `/cdn refresh` alone opens it with views.open;
a submission with bad URLs is answered in the form (the ack's body); a valid one closes it and
leads to the private confirmation, delivered with chat.postEphemeral, whose button submits."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.core.access import Allow, Policy
from bot.core.submission import Action
from bot.slack.modals import FormBlock, write_form
from bot.slack.render import ActionId
from tests.slack.fake_slack import TRIGGER_ID, button_click, form_submission, slash_command

USER, CHANNEL = "U0ANA1234", "C1"  # who the stand-in's requests come from, and where


def values(urls: str, *, kind: str = "file") -> dict:
    return {
        FormBlock.URLS: {ActionId.WRITE_URLS: {"type": "plain_text_input", "value": urls}},
        FormBlock.KIND: {
            ActionId.WRITE_KIND: {"type": "radio_buttons", "selected_option": {"value": kind}}
        },
        FormBlock.FORCE: {ActionId.WRITE_FORCE: {"type": "checkboxes", "selected_options": []}},
    }


@pytest.mark.parametrize("action", list(Action))
async def test_a_write_with_nothing_after_it_opens_the_form(running_bot, action):
    slack = running_bot.slack
    hook = slack.new_response_url()
    answer = await running_bot.post(slash_command(f"{action}", response_url=hook))
    assert answer.status_code == 200
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    assert opened["trigger_id"] == TRIGGER_ID
    assert opened["view"] == write_form(action, channel=CHANNEL)
    assert not [name for name, _ in slack.responses]  # nothing else to say


async def test_bad_urls_are_answered_in_the_form(running_bot):
    view = write_form(Action.REFRESH, channel=CHANNEL)
    answer = await running_bot.post(
        form_submission(view, values("https://www.example.com/static", kind="dir"))
    )
    assert answer.status_code == 200
    ack = answer.json()
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [FormBlock.URLS]
    assert "a directory ends with /" in ack["errors"][FormBlock.URLS]
    assert not running_bot.slack.calls_of("chat.postEphemeral")


async def test_a_valid_form_closes_and_the_confirmation_comes_privately(running_bot):
    slack, emulator = running_bot.slack, running_bot.emulator
    view = write_form(Action.REFRESH, channel=CHANNEL)
    urls = "https://www.example.com/a.js\nhttps://www.example.com/b.js"
    answer = await running_bot.post(form_submission(view, values(urls)))
    assert answer.status_code == 200 and answer.text == ""  # an empty ack closes the form
    (posted,) = await slack.wait_for(lambda: slack.calls_of("chat.postEphemeral"))
    assert (posted["channel"], posted["user"]) == (CHANNEL, USER)
    blocks = posted["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    buttons = [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]
    confirm = next(b for b in buttons if b["action_id"] == ActionId.CONFIRM_WRITE)
    assert "2" in confirm["text"]["text"]
    assert not emulator.calls_of("RefreshObjectCaches")  # nothing before the click

    # The confirmation is an ephemeral message: its click carries a response_url.
    hook = slack.new_response_url()
    click = {"action_id": ActionId.CONFIRM_WRITE, "type": "button", "value": confirm["value"]}
    assert (await running_bot.post(button_click(click, response_url=hook))).status_code == 200
    await slack.response_to(hook)
    (call,) = emulator.calls_of("RefreshObjectCaches")
    assert call.params["ObjectPath"].split("\n") == urls.split("\n")


async def test_the_confirmation_goes_to_the_dm_where_the_channel_is_closed(running_bot):
    slack = running_bot.slack
    slack.channel_errors[CHANNEL] = "channel_not_found"
    view = write_form(Action.PREFETCH, channel=CHANNEL)
    urls = {FormBlock.URLS: values("https://www.example.com/a.js")[FormBlock.URLS]}
    assert (await running_bot.post(form_submission(view, urls))).status_code == 200
    (dm,) = await slack.wait_for(lambda: slack.calls_of("chat.postMessage"))
    assert dm["channel"] == USER


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_someone_who_may_not_submit_gets_no_form(running_bot):
    slack = running_bot.slack
    hook = slack.new_response_url()
    await running_bot.post(slash_command("refresh", response_url=hook))
    (reply,) = await slack.response_to(hook)
    assert "may not refresh or prefetch" in reply["text"] and "#cdn-admins" in reply["text"]
    assert not slack.calls_of("views.open")


async def test_a_form_slack_would_not_open_is_explained(running_bot):
    slack = running_bot.slack
    slack.views_open_error = "expired_trigger_id"
    hook = slack.new_response_url()
    await running_bot.post(slash_command("prefetch", response_url=hook))
    (reply,) = await slack.response_to(hook)
    assert "expired_trigger_id" in reply["text"] and "/cdn prefetch" in reply["text"]


async def test_closing_the_form_does_nothing(running_bot):
    view = {**write_form(Action.REFRESH, channel=CHANNEL), "id": "V0FORM"}
    payload = {
        "type": "view_closed",
        "team": {"id": "T1", "domain": "example"},
        "user": {"id": USER, "team_id": "T1"},
        "api_app_id": "A1",
        "view": view,
        "is_cleared": False,
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert (await running_bot.post(body)).status_code == 200
    assert not [name for name, _ in running_bot.slack.api_calls if name != "auth.test"]
