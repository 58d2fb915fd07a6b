"""The Web API as the playground plays it for the bot: the methods it calls (auth.test,
users.info, users.conversations, chat.postMessage, chat.postEphemeral, chat.update,
views.open, views.publish, conversations.open, and files upload v2's
files.getUploadURLExternal and files.completeUploadExternal), answered against the
playground's channels and messages with Slack's errors.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.playground.files import FileRefused, Files
from bot.playground.modals import ViewRefused
from bot.playground.workspace import APP_DM, BOT_USER, TEAM_ID, USER_ID

if TYPE_CHECKING:
    from bot.playground.server import Playground


class WebApi:
    """The Web API stand-in over `play`'s state; calls must carry this run's bot `token`."""

    def __init__(self, play: Playground, *, token: str) -> None:
        self._play = play
        self._bot_token = token

    async def answer(self, request: web.Request) -> web.Response:
        """One Web API call: Slack's JSON answer (errors as `ok: false`, like Slack)."""
        offered = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(offered, f"Bearer {self._bot_token}".encode()):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        body: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body.update(await request.json())
        elif request.can_read_body:
            body.update({k: str(v) for k, v in (await request.post()).items()})
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": BOT_USER, "bot_id": "B0CDNBOT1", "team_id": TEAM_ID}
            )
        if method == "users.info":
            user = {"id": body.get("user"), "tz": self._play.user_tz}
            return web.json_response({"ok": True, "user": user})
        if method in ("chat.postMessage", "chat.postEphemeral"):
            named = str(body.get("channel", ""))
            # A user ID as the channel: the app's DM with that person.
            channel = self._play.channels.get(APP_DM if named == USER_ID else named)
            if channel is None:
                return web.json_response({"ok": False, "error": "channel_not_found"})
            if channel.private and not channel.bot_member:
                return web.json_response({"ok": False, "error": "not_in_channel"})
            text, blocks = str(body.get("text", "")), _json_field(body.get("blocks")) or []
            if method == "chat.postMessage":
                message = await self._play.post(channel.id, "bot", text, blocks=blocks)
                return web.json_response({"ok": True, "channel": channel.id, "ts": message.ts})
            if body.get("user") != USER_ID:
                return web.json_response({"ok": False, "error": "user_not_in_channel"})
            message = await self._play.post(channel.id, "bot", text, blocks=blocks, ephemeral=True)
            return web.json_response({"ok": True, "message_ts": message.ts})
        if method == "chat.update":
            return await self._update(body)
        if method == "views.publish":
            try:
                view = self._play.home.publish(body.get("user_id"), _json_field(body.get("view")))
            except ViewRefused as refused:
                return web.json_response({"ok": False, "error": refused.error})
            await self._play.tell_page({"home": view})
            return web.json_response({"ok": True, "view": view})
        if method == "users.conversations":
            # The person is in every channel; private ones are listed where the bot is too.
            listed = [
                {"id": c.id, "name": c.name, "is_private": c.private}
                for c in self._play.channels.values()
                if not c.direct and (not c.private or c.bot_member)
            ]
            return web.json_response(
                {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}
            )
        if method == "conversations.open":
            # The person at the keyboard is the only one the app can open a DM with.
            if body.get("users") != USER_ID:
                return web.json_response({"ok": False, "error": "user_not_found"})
            return web.json_response({"ok": True, "channel": {"id": APP_DM}})
        if method == "files.getUploadURLExternal":
            try:
                upload, url = self._play.files.announce(
                    str(body.get("filename", "")),
                    str(body.get("length", "")),
                    str(body.get("alt_txt") or ""),
                )
            except FileRefused as refused:
                return web.json_response({"ok": False, "error": refused.error})
            return web.json_response({"ok": True, "file_id": upload.id, "upload_url": url})
        if method == "files.completeUploadExternal":
            return await self._complete_upload(body)
        if method == "views.open":
            try:
                opened = self._play.modals.open(
                    str(body.get("trigger_id", "")), _json_field(body.get("view"))
                )
            except ViewRefused as refused:
                return web.json_response({"ok": False, "error": refused.error})
            await self._play.tell_page({"view": {"id": opened.id, **opened.view}})
            return web.json_response({"ok": True, "view": {"id": opened.id, **opened.view}})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _complete_upload(self, body: dict[str, Any]) -> web.Response:
        """files.completeUploadExternal: the uploaded files shared in a channel as a message,
        `initial_comment` above them; with no channel they stay private (not shown)."""
        try:
            found = self._play.files.complete(_json_field(body.get("files")))
        except FileRefused as refused:
            return web.json_response({"ok": False, "error": refused.error})
        named = str(body.get("channel_id") or "")
        shared = [
            {"id": upload.id, "title": title, "permalink": self._play.base_url + Files.url(upload)}
            for upload, title in found
        ]
        if not named:
            return web.json_response({"ok": True, "files": shared})
        channel = self._play.channels.get(named)
        if channel is None:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if channel.private and not channel.bot_member:
            return web.json_response({"ok": False, "error": "not_in_channel"})
        files = [
            {"id": upload.id, "title": title, "alt": upload.alt, "url": Files.url(upload)}
            for upload, title in found
        ]
        await self._play.post(
            channel.id, "bot", str(body.get("initial_comment") or ""), files=files
        )
        return web.json_response({"ok": True, "files": shared})

    async def _update(self, body: dict[str, Any]) -> web.Response:
        """chat.update: the bot's own message, changed in place (blocks left out are removed)."""
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        if channel not in self._play.channels:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        found = next(
            (m for m in self._play.messages.values() if m.channel == channel and m.ts == ts), None
        )
        if found is None or found.deleted:
            return web.json_response({"ok": False, "error": "message_not_found"})
        if found.author != "bot" or found.ephemeral:
            return web.json_response({"ok": False, "error": "cant_update_message"})
        found.text, found.blocks = str(body.get("text", "")), _json_field(body.get("blocks")) or []
        await self._play.show(found)
        return web.json_response({"ok": True, "channel": channel, "ts": ts, "text": found.text})


def _json_field(value: Any) -> Any:
    """A Web API argument that a form-encoded call sends as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
