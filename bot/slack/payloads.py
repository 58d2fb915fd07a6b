"""What a signed body must look like before Bolt reads it: JSON where JSON is expected, not
nested past reason, and the fields Bolt and our listeners index into of the type Slack sends.

Bolt reads those fields with `body["actions"][0]["action_id"]` and the like, so a signed body
of another shape would otherwise end as a 500 with a traceback instead of a 400.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

MAX_DEPTH = 64  # Slack's own payloads nest about ten levels (a view's rich_text state)

_TEXT: tuple[type, ...] = (str,)
_OBJECT: tuple[type, ...] = (dict,)
# `user` is an ID in events, an object in interactions and null in some org-wide installs.
_ID_OR_OBJECT: tuple[type, ...] = (str, dict, type(None))
# What Bolt's ID extractors and matchers read, at the top level and in the objects they
# look into for IDs (`event`, `message`, `user`, …).
_ID_FIELDS: dict[str, tuple[type, ...]] = {
    "id": _TEXT,
    "type": _TEXT,
    "user_id": _TEXT,
    "channel_id": _TEXT,
    "team_id": _TEXT,
    "enterprise_id": (str, type(None)),
    "callback_id": _TEXT,
    "user": _ID_OR_OBJECT,
    "channel": _ID_OR_OBJECT,
    "team": _ID_OR_OBJECT,
    "enterprise": _ID_OR_OBJECT,
}
_FIELDS: dict[str, tuple[type, ...]] = {
    **_ID_FIELDS,
    "token": _TEXT,
    "api_app_id": _TEXT,
    "command": _TEXT,
    "text": _TEXT,
    "trigger_id": _TEXT,
    "action_id": _TEXT,
    "response_url": _TEXT,
    "container": _OBJECT,
    "message": _OBJECT,
    "previous_message": _OBJECT,
    "item": _OBJECT,
    "assistant_thread": _OBJECT,
    "view": _OBJECT,
    "event": _OBJECT,
    "actions": (list,),
    "authorizations": (list,),
    "response_urls": (list,),
}
_ITEM_FIELDS: dict[str, tuple[type, ...]] = {
    **_ID_FIELDS,
    "action_id": _TEXT,
    "block_id": _TEXT,
    "response_url": _TEXT,
}
_NESTED: tuple[str, ...] = ("user", "channel", "team", "enterprise", "event", "message")
_NESTED += ("previous_message", "item", "assistant_thread", "view")
_LISTS_OF_OBJECTS = ("actions", "authorizations", "response_urls")


class Malformed(ValueError):
    """A signed body Bolt cannot read; the message says what is wrong, without its values."""


def check_body(text: str, *, content_type: str | None) -> None:
    """Raise Malformed unless Bolt can read `text` (a decoded body), the way Bolt parses it."""
    # The same branches as slack_bolt.request.internals.parse_body, so both see one payload.
    if not text:
        return
    if content_type == "application/json" or text.startswith("{"):
        check_payload(_json(text, "the JSON body"))
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        payload = form.get("payload")
        # A command's form is read like a payload too: Bolt's middleware looks into `event`
        # and friends whatever the body's shape, and a string there is not an object.
        check_payload(form if payload is None else _json(payload, "payload"))


def _json(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except RecursionError:
        raise Malformed(f"{what} is nested too deeply") from None
    except ValueError:
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    if _depth(value) > MAX_DEPTH:
        raise Malformed(f"{what} is nested too deeply")
    return value


def _depth(value: dict[str, Any] | list[Any]) -> int:
    """How deeply objects and lists nest in `value` (counted without recursing)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_DEPTH:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_payload(payload: dict[str, Any]) -> None:
    """Raise Malformed when a field Bolt or a listener indexes into has another type."""
    _check_fields(payload, _FIELDS, where="")
    for name in _NESTED:
        if isinstance(payload.get(name), dict):
            _check_object(payload[name], where=f"{name}.")
    for name in _LISTS_OF_OBJECTS:
        items = payload.get(name, ())
        if not all(isinstance(item, dict) for item in items):
            raise Malformed(f"`{name}` is not a list of objects")
        for item in items:
            _check_fields(item, _ITEM_FIELDS, where=f"{name}[].")
    # Bolt takes the first action of these two without asking whether there is one.
    if payload.get("type") in ("block_actions", "interactive_message"):
        actions = payload.get("actions")
        if not actions:
            raise Malformed("an interaction without actions")
        if payload["type"] == "block_actions" and not all("action_id" in a for a in actions):
            raise Malformed("an action without action_id")


def _check_object(value: dict[str, Any], *, where: str) -> None:
    """An object Bolt looks into for IDs: `event`, `message`, `event.item`, …"""
    _check_fields(value, _ID_FIELDS, where=where)
    for name in _NESTED:
        if isinstance(value.get(name), dict):
            _check_object(value[name], where=f"{where}{name}.")


def _check_fields(
    value: dict[str, Any], fields: dict[str, tuple[type, ...]], *, where: str
) -> None:
    for name, kinds in fields.items():
        if name in value and not isinstance(value[name], kinds):
            raise Malformed(f"`{where}{name}` is not {_kind(kinds)}")


def _kind(kinds: tuple[type, ...]) -> str:
    names = {str: "text", dict: "an object", list: "a list", type(None): "null"}
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)
