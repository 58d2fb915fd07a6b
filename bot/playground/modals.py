"""The modals the bot opens in the playground: the trigger_ids it may open them with, the views
open on the page, and the input state a submission carries, shaped as Slack shapes it.

Like Slack: a trigger_id works once, for three seconds; only what a view offers can be chosen.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TRIGGER_SECONDS = 3.0
MAX_TRIGGERS = 200
MAX_VIEWS = 20
TITLE_LIMIT = 24
BLOCK_LIMIT = 100
METADATA_LIMIT = 3000


class ViewRefused(ValueError):
    """The Web API's error for a views.open it refuses: `error` is Slack's code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class OpenView:
    """A modal on the page: the view the bot opened, in the channel the person was in."""

    id: str
    channel: str
    view: dict[str, Any]


class Modals:
    """Triggers handed to the bot and the views it opened with them, both bounded."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._triggers: dict[str, tuple[str, float]] = {}  # trigger → channel, expiry
        self.views: dict[str, OpenView] = {}

    def trigger(self, channel: str) -> str:
        """A fresh trigger_id for something the person did in `channel`."""
        now = self._clock()
        for stale in [t for t, (_, expires) in self._triggers.items() if expires <= now]:
            del self._triggers[stale]
        while len(self._triggers) >= MAX_TRIGGERS:
            del self._triggers[next(iter(self._triggers))]
        trigger = f"{int(time.time())}.{secrets.token_hex(8)}"
        self._triggers[trigger] = (channel, now + TRIGGER_SECONDS)
        return trigger

    def open(self, trigger: str, view: object) -> OpenView:
        """views.open: spend `trigger` on `view`, or ViewRefused with Slack's error."""
        found = self._triggers.pop(trigger, None)
        if found is None:
            raise ViewRefused("invalid_trigger_id")
        channel, expires = found
        if expires <= self._clock():
            raise ViewRefused("expired_trigger_id")
        checked = _checked(view)
        while len(self.views) >= MAX_VIEWS:
            del self.views[next(iter(self.views))]
        opened = OpenView(f"V{secrets.token_hex(5).upper()}", channel, checked)
        self.views[opened.id] = opened
        return opened

    def close(self, view_id: str) -> OpenView | None:
        """The view is gone from the page (closed, or submitted and accepted)."""
        return self.views.pop(view_id, None)


def _checked(view: object) -> dict[str, Any]:
    """`view` if it is a modal Slack would open; else ViewRefused."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise ViewRefused("invalid_arguments")
    blocks = view.get("blocks")
    title = view.get("title")
    if not isinstance(blocks, list) or not isinstance(title, dict):
        raise ViewRefused("invalid_arguments")
    too_long = [
        name
        for name in ("title", "submit", "close")
        if isinstance(view.get(name), dict) and len(str(view[name].get("text", ""))) > TITLE_LIMIT
    ]
    if (
        too_long
        or len(blocks) > BLOCK_LIMIT
        or len(str(view.get("private_metadata", ""))) > METADATA_LIMIT
        or (any(_is_input(b) for b in blocks) and "submit" not in view)
    ):
        raise ViewRefused("invalid_arguments")
    return view


def _is_input(block: object) -> bool:
    return isinstance(block, dict) and block.get("type") == "input"


def state_values(
    view: Mapping[str, Any],
    inputs: Mapping[str, Any],
    *,
    conversations: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The `view.state.values` Slack sends for `inputs` (block_id → the text typed, the values
    of the options chosen, or a conversation picked among `conversations`), keeping only what
    the view's inputs offer."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if not _is_input(block) or not isinstance(block.get("element"), dict):
            continue
        element = block["element"]
        kind, given = element.get("type"), inputs.get(str(block.get("block_id", "")))
        chosen = {str(v) for v in (given if isinstance(given, list) else [given])}
        options = [o for o in element.get("options", []) if o.get("value") in chosen]
        if kind == "plain_text_input":
            text = given if isinstance(given, str) and given else None
            limit = element.get("max_length")
            state: dict[str, Any] = {"value": text[:limit] if text and limit else text}
        elif kind in ("radio_buttons", "static_select"):
            state = {"selected_option": options[0] if options else None}
        elif kind == "checkboxes":
            state = {"selected_options": options}
        elif kind == "conversations_select":
            state = {"selected_conversation": given if given in conversations else None}
        else:
            continue
        values[str(block.get("block_id", ""))] = {
            str(element.get("action_id", "")): {"type": kind, **state}
        }
    return values
