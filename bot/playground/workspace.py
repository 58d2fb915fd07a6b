"""What the playground's workspace holds: who is in it, its channels, the messages the page
shows, the files the bot uploads, and the response_urls handed to the bot."""

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
    # Files shared with the message (files.completeUploadExternal): id, title, alt, url.
    files: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Upload:
    """A file the bot is uploading: announced (files.getUploadURLExternal), then its bytes,
    then shared in a channel."""

    id: str
    filename: str
    length: int
    alt: str = ""
    data: bytes | None = None


@dataclass
class Hook:
    """A response_url: the channel it answers in, the message whose button made it, and how
    long and how often it may still be used."""

    channel: str
    origin: int | None
    expires: float
    uses_left: int = HOOK_USES
