"""The wire the playground and the test stand-in speak: read back by Slack's own SDK and Bolt,
and by our verifier and payload checks, so neither side can drift from Slack alone."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from slack_bolt.request import internals, payload_utils
from slack_sdk.signature import Clock, SignatureVerifier

from bot.slack import wire
from bot.slack.payloads import check_body
from bot.slack.verify import Verifier

NOW = 1_800_000_000
SENDER = wire.Sender(
    user_id="U0ANA1234",
    user_name="ana",
    team_id="T1",
    team_domain="example",
    channel_id="C1",
    channel_name="ops",
    app_id="A1",
)
HOOK = "https://hooks.slack.com/commands/T1/1/x"


class Fixed(Clock):
    def now(self) -> float:
        return NOW


@pytest.mark.parametrize("body", [b"", b"command=%2Fcdn&text=failed", "ü &=%".encode()])
def test_signed_headers_pass_slack_sdk_and_our_verifier(body):
    headers = wire.signed_headers(body, secret="s3cret", timestamp=NOW)
    stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    theirs = SignatureVerifier("s3cret", clock=Fixed())
    assert theirs.is_valid(body, stamp, signature)
    ours = Verifier("s3cret", clock=lambda: NOW)
    assert ours.problem(body, timestamp=stamp, signature=signature) is None
    assert ours.problem(body + b"x", timestamp=stamp, signature=signature) is not None
    other = wire.signed_headers(body, secret="another", timestamp=NOW)["X-Slack-Signature"]
    assert not theirs.is_valid(body, stamp, other)


def test_command_body_is_a_slash_command_to_bolt():
    body = wire.command_body(SENDER, "failed a&b", response_url=HOOK, trigger_id="1.2.3")
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_slash_command(parsed)
    assert parsed["command"] == "/cdn"
    assert parsed["text"] == "failed a&b"
    assert parsed["response_url"] == HOOK
    assert internals.extract_user_id(parsed) == "U0ANA1234"
    assert internals.extract_channel_id(parsed) == "C1"
    assert internals.extract_team_id(parsed) == "T1"
    assert "token" not in parsed


def test_block_actions_body_is_a_button_click_to_bolt():
    action = {"action_id": "next", "block_id": "b1", "type": "button", "value": "q"}
    body = wire.block_actions_body(
        SENDER, action, response_url=HOOK, trigger_id="1.2.3", action_ts="1.5", message_ts="9.1"
    )
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_block_actions(parsed)
    assert parsed["actions"] == [{**action, "action_ts": "1.5"}]
    assert parsed["container"] == {
        "type": "message",
        "channel_id": "C1",
        "message_ts": "9.1",
        "is_ephemeral": True,
    }
    assert internals.extract_user_id(parsed) == "U0ANA1234"
    assert internals.extract_channel_id(parsed) == "C1"
    assert parsed["api_app_id"] == "A1"


def test_the_legacy_token_rides_along_only_when_given():
    sender = wire.Sender(**{**SENDER.__dict__, "token": "legacy"})
    command = dict(
        parse_qsl(wire.command_body(sender, "", response_url="", trigger_id="t").decode())
    )
    click = wire.block_actions_body(
        sender, {"action_id": "a"}, response_url="", trigger_id="t", action_ts="1", ephemeral=False
    )
    payload = json.loads(dict(parse_qsl(click.decode()))["payload"])
    assert command["token"] == payload["token"] == "legacy"
    assert "message_ts" not in payload["container"]
    assert payload["container"]["is_ephemeral"] is False


def test_view_submission_body_is_a_modal_submission_to_bolt():
    view = {"type": "modal", "callback_id": "form", "private_metadata": "m", "blocks": []}
    values = {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    body = wire.view_submission_body(SENDER, view, view_id="V1", values=values, trigger_id="1.2.3")
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_view_submission(parsed)
    assert payload_utils.to_view(parsed) == parsed["view"]
    assert parsed["view"]["id"] == "V1" and parsed["view"]["callback_id"] == "form"
    assert parsed["view"]["private_metadata"] == "m"
    assert parsed["view"]["state"] == {"values": values}
    assert internals.extract_user_id(parsed) == "U0ANA1234"
    assert internals.extract_team_id(parsed) == "T1"
    assert internals.extract_channel_id(parsed) is None  # a modal has no channel
    assert "token" not in parsed


def test_home_actions_body_is_a_click_on_a_home_tab_to_bolt():
    view = {"type": "home", "callback_id": "cdn_home", "private_metadata": '{"channel": "D1"}'}
    action = {"action_id": "cdn_home_reload", "type": "button", "value": "home"}
    body = wire.home_actions_body(
        SENDER, action, view=view, view_id="V9", trigger_id="1.2.3", action_ts="1.5"
    )
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_block_actions(parsed)
    assert parsed["view"]["private_metadata"] == '{"channel": "D1"}'
    assert parsed["container"] == {"type": "view", "view_id": "V9"}
    assert internals.extract_user_id(parsed) == "U0ANA1234"
    assert internals.extract_channel_id(parsed) is None  # a Home tab is in no channel
    assert "response_url" not in parsed


def test_shortcut_bodies_are_shortcuts_to_bolt():
    message = {"type": "message", "user": "U0BOB0001", "text": "<https://a.example.com/x>"}
    message["ts"] = "1700000000.000100"
    body = wire.message_shortcut_body(
        SENDER, "cdn_check_links", message, response_url=HOOK, trigger_id="1.2.3"
    )
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_message_shortcut(parsed)
    assert payload_utils.to_shortcut(parsed)["callback_id"] == "cdn_check_links"
    assert parsed["message"] == message and parsed["response_url"] == HOOK
    assert internals.extract_channel_id(parsed) == "C1"

    body = wire.global_shortcut_body(SENDER, "cdn_new_refresh", trigger_id="1.2.3")
    check_body(body.decode(), content_type=wire.FORM)
    parsed = internals.parse_body(body.decode(), wire.FORM)
    assert payload_utils.is_global_shortcut(parsed)
    assert internals.extract_channel_id(parsed) is None
    assert internals.extract_user_id(parsed) == "U0ANA1234"


def test_event_body_is_an_event_to_bolt_and_signed_as_json():
    event = {"type": "app_home_opened", "user": "U0ANA1234", "channel": "D1", "tab": "home"}
    body = wire.event_body(SENDER, {**event, "event_ts": "1700000000.5"}, event_id="Ev1")
    check_body(body.decode(), content_type=wire.JSON)
    parsed = internals.parse_body(body.decode(), wire.JSON)
    assert payload_utils.is_event(parsed)
    assert payload_utils.to_event(parsed)["type"] == "app_home_opened"
    assert parsed["event_id"] == "Ev1" and parsed["event_time"] == 1700000000
    assert internals.extract_user_id(parsed) == "U0ANA1234"
    headers = wire.signed_headers(body, secret="s3cret", timestamp=NOW, content_type=wire.JSON)
    assert headers["Content-Type"] == "application/json"
    ours = Verifier("s3cret", clock=lambda: NOW)
    stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert ours.problem(body, timestamp=stamp, signature=signature) is None
