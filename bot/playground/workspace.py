"""What the playground's workspace holds: who is in it, its channels, the messages the page
shows, and the response_urls handed to the bot."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

HOOK_USES = 5
# Who the person at the keyboard, their workspace and the bot are.
USER_ID, USER_NAME, TEAM_ID, BOT_USER = "U0PLAYER1", "you", "T0PLAYGND", "U0CDNBOT1"
APP_ID = "A0PLAYGND"
APP_DM = "D0CDNBOT1"  # the app's Messages tab: its DM with the person


@dataclass
class Channel:
    """A channel of the playground's workspace."""

    id: str
    name: str
    private: bool = False
    bot_member: bool = True
    direct: bool = False  # the app's DM with the person: its Messages tab


@dataclass
class Message:
    """One message as the page shows it."""

    id: int
    channel: str
    author: str  # "bot", "you" or "system"
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    deleted: bool = False
    ts: str = field(default_factory=lambda: f"{time.time():.6f}")


@dataclass
class Hook:
    """A response_url: the channel it answers in, the message whose button made it, and how
    long and how often it may still be used."""

    channel: str
    origin: int | None
    expires: float
    uses_left: int = HOOK_USES
