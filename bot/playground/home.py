"""The bot's App Home as the playground shows it: the Home view the bot published for the
person at the keyboard (views.publish), checked as Slack checks it, and the app_home_opened
event that asks the bot for one.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.playground.modals import BLOCK_LIMIT, METADATA_LIMIT, ViewRefused
from bot.slack import wire

VIEW_ID = "V0PLAYHOME"
PUBLISH_LIMIT = 250_000  # bytes: Slack's view_too_large


class HomeTab:
    """The one person's Home: what the bot last published there."""

    def __init__(self, *, user_id: str, channel: str) -> None:
        self.user_id = user_id
        self.channel = channel  # the app's DM with the person, which app_home_opened names
        self.view: dict[str, Any] | None = None
        self._events = itertools.count(1)

    def publish(self, user_id: object, view: object) -> dict[str, Any]:
        """views.publish: keep `view` as the person's Home, or ViewRefused with Slack's error."""
        if user_id != self.user_id:
            raise ViewRefused("user_not_found")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise ViewRefused("invalid_arguments")
        blocks = view.get("blocks")
        if (
            not isinstance(blocks, list)
            or len(blocks) > BLOCK_LIMIT
            or len(str(view.get("private_metadata", ""))) > METADATA_LIMIT
        ):
            raise ViewRefused("invalid_arguments")
        if len(repr(view).encode()) > PUBLISH_LIMIT:
            raise ViewRefused("view_too_large")
        self.view = {**view, "id": VIEW_ID}
        return self.view

    def opened(self, sender: wire.Sender) -> bytes:
        """The Events API body Slack sends when the person opens the Home tab."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.channel,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if self.view is not None:
            event["view"] = self.view
        return wire.event_body(sender, event, event_id=f"Ev0PLAY{next(self._events)}")
