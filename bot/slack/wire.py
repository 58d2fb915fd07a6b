"""Slack's side of POST /slack/events on the wire: the v0 request signature; the form bodies
of a slash command, a button click (on a message or a Home tab), a modal's submission and a
shortcut; and the Events API's JSON bodies. The verifier checks signatures with it; the
playground and the test stand-in for Slack build every request they send the bot with it.

Stdlib only: a stand-in for Slack needs no Slack SDK to speak like Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(body: bytes, *, secret: str, timestamp: str) -> str:
    """Slack's v0 signature: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, *, secret: str, timestamp: int, content_type: str = FORM
) -> dict[str, str]:
    """The headers Slack sends with a `body` it signed at `timestamp` (Unix seconds): a form,
    or JSON for the Events API."""
    stamp = str(timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(body, secret=secret, timestamp=stamp),
    }


@dataclass(frozen=True)
class Sender:
    """Who sends a request, from which workspace and channel, as Slack names them."""

    user_id: str
    user_name: str
    team_id: str
    team_domain: str
    channel_id: str
    channel_name: str
    app_id: str
    # The legacy verification token: Slack still sends it to apps created before signing.
    token: str | None = None


def command_body(
    sender: Sender,
    text: str,
    *,
    response_url: str,
    trigger_id: str,
    command: str = "/cdn",
) -> bytes:
    """The form body Slack sends when `sender` types `{command} {text}`."""
    form = {
        "command": command,
        "text": text,
        "user_id": sender.user_id,
        "user_name": sender.user_name,
        "channel_id": sender.channel_id,
        "channel_name": sender.channel_name,
        "team_id": sender.team_id,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(_with_token(form, sender)).encode()


def block_actions_body(
    sender: Sender,
    action: Mapping[str, Any],
    *,
    response_url: str,
    trigger_id: str,
    action_ts: str,
    message_ts: str | None = None,
    ephemeral: bool = True,
) -> bytes:
    """The form body Slack sends when `sender` clicks `action` on a message (`message_ts`, when
    the sender knows it) in their channel: a JSON `payload` of type block_actions."""
    container: dict[str, Any] = {"type": "message", "channel_id": sender.channel_id}
    if message_ts is not None:
        container["message_ts"] = message_ts
    container["is_ephemeral"] = ephemeral
    payload = {
        "type": "block_actions",
        "user": {"id": sender.user_id, "username": sender.user_name, "team_id": sender.team_id},
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "channel": {"id": sender.channel_id, "name": sender.channel_name},
        "container": container,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "actions": [{**action, "action_ts": action_ts}],
        "api_app_id": sender.app_id,
    }
    return urlencode({"payload": json.dumps(_with_token(payload, sender))}).encode()


def view_submission_body(
    sender: Sender,
    view: Mapping[str, Any],
    *,
    view_id: str,
    values: Mapping[str, Any],
    trigger_id: str,
) -> bytes:
    """The form body Slack sends when `sender` submits the modal `view` (as the app opened
    it, known to Slack as `view_id`) with `values` in its inputs: `{block_id: {action_id:
    {type, value | selected_option | selected_options}}}`. A modal has no channel."""
    payload = {
        "type": "view_submission",
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "user": {
            "id": sender.user_id,
            "username": sender.user_name,
            "name": sender.user_name,
            "team_id": sender.team_id,
        },
        "api_app_id": sender.app_id,
        "trigger_id": trigger_id,
        "view": {
            **view,
            "id": view_id,
            "team_id": sender.team_id,
            "app_id": sender.app_id,
            "state": {"values": values},
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(_with_token(payload, sender))}).encode()


def home_actions_body(
    sender: Sender,
    action: Mapping[str, Any],
    *,
    view: Mapping[str, Any],
    view_id: str,
    trigger_id: str,
    action_ts: str,
) -> bytes:
    """The form body Slack sends when `sender` clicks `action` on their Home tab, which shows
    `view` (as the app published it, known to Slack as `view_id`): no channel, no
    response_url, the view instead."""
    payload = {
        "type": "block_actions",
        "user": {"id": sender.user_id, "username": sender.user_name, "team_id": sender.team_id},
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": trigger_id,
        "view": {**view, "id": view_id, "team_id": sender.team_id, "app_id": sender.app_id},
        "actions": [{**action, "action_ts": action_ts}],
        "api_app_id": sender.app_id,
    }
    return urlencode({"payload": json.dumps(_with_token(payload, sender))}).encode()


def message_shortcut_body(
    sender: Sender,
    callback_id: str,
    message: Mapping[str, Any],
    *,
    response_url: str,
    trigger_id: str,
) -> bytes:
    """The form body Slack sends when `sender` picks the message shortcut `callback_id` on
    `message` in their channel: a JSON `payload` of type message_action."""
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "user": {"id": sender.user_id, "name": sender.user_name, "team_id": sender.team_id},
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "channel": {"id": sender.channel_id, "name": sender.channel_name},
        "message": dict(message),
        "message_ts": str(message.get("ts", "")),
        "action_ts": str(message.get("ts", "")),
        "api_app_id": sender.app_id,
    }
    return urlencode({"payload": json.dumps(_with_token(payload, sender))}).encode()


def global_shortcut_body(sender: Sender, callback_id: str, *, trigger_id: str) -> bytes:
    """The form body Slack sends when `sender` picks the global shortcut `callback_id`: no
    channel, no response_url."""
    payload = {
        "type": "shortcut",
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "user": {"id": sender.user_id, "username": sender.user_name, "team_id": sender.team_id},
        "team": {"id": sender.team_id, "domain": sender.team_domain},
        "action_ts": trigger_id.split(".", 1)[0],
        "api_app_id": sender.app_id,
    }
    return urlencode({"payload": json.dumps(_with_token(payload, sender))}).encode()


def event_body(sender: Sender, event: Mapping[str, Any], *, event_id: str) -> bytes:
    """The JSON body the Events API sends for `event`, delivered once as `event_id` (a retry
    of it carries the same ID)."""
    envelope = {
        "type": "event_callback",
        "team_id": sender.team_id,
        "api_app_id": sender.app_id,
        "event": dict(event),
        "event_id": event_id,
        "event_time": int(float(str(event.get("event_ts", "0")) or 0)),
    }
    return json.dumps(_with_token(envelope, sender)).encode()


def _with_token(fields: dict[str, Any], sender: Sender) -> dict[str, Any]:
    return fields if sender.token is None else {**fields, "token": sender.token}
