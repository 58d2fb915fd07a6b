"""The playground's state and HTTP routes: channels, messages, the app's Home and DM, the
files the bot shares, and the Slack side of the wire.

The page talks to /playground/*; the bot talks to /api/* (its Web API) and to the response_url
receivers; the playground talks to the bot only through its real /slack/events endpoint.
Everything it keeps is bounded: the newest messages, events and response_urls only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from html import escape
from importlib import resources
from typing import Any

import aiohttp
from aiohttp import web

from bot.playground.files import FILE_PATH, UPLOAD_PATH, Files
from bot.playground.guard import Guard
from bot.playground.home import HomeTab
from bot.playground.modals import Modals, state_values
from bot.playground.webapi import WebApi
from bot.playground.workspace import (
    APP_DM,
    APP_ID,
    BOT_USER,
    TEAM_ID,
    USER_ID,
    USER_NAME,
    Channel,
    Hook,
    Message,
)
from bot.slack import wire

SHORTCUTS = {"message": "cdn_check_links", "global": "cdn_new_refresh"}
STATIC = {"app.js": "application/javascript", "style.css": "text/css"}
LONG_POLL_SECONDS = 25
# What a long session may leave behind: the page shows the newest, older ones go.
MAX_MESSAGES = 500
MAX_EVENTS = 1000
MAX_HOOKS = 500
# A response_url works like Slack's: for 30 minutes, at most 5 times (HOOK_USES).
HOOK_SECONDS = 30 * 60


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Playground:
    """Everything the page shows, and the Slack the bot believes it talks to."""

    def __init__(
        self,
        *,
        base_url: str,
        signing_secret: str,
        bot_token: str,
        public: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.public = public
        self._secret = signing_secret
        self._token = bot_token
        # Per run, embedded in the page: only the page this process served can drive it.
        self.page_token = secrets.token_urlsafe(32)
        self._guard = Guard(self.base_url, token=self.page_token, public=public)
        self._clock = clock
        self.channels = {
            c.id: c
            for c in (
                Channel("C0GENERAL", "general"),
                Channel("C0CDNOPS1", "cdn-ops"),
                Channel("G0SECRET1", "secret", private=True, bot_member=False),
                Channel(APP_DM, "cdn-task-bot", private=True, direct=True),
            )
        }
        self.home = HomeTab(user_id=USER_ID, channel=APP_DM)
        self.messages: dict[int, Message] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._seq = 0
        self.user_tz = "UTC"
        self._ids = itertools.count(1)
        self._hooks: dict[str, Hook] = {}
        self.modals = Modals(clock=clock)
        self.files = Files(self.base_url)
        self._changed = asyncio.Condition()
        self._http: aiohttp.ClientSession | None = None

    # -- wiring -----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Add the playground's routes to the bot's own HTTP application."""
        guarded = self._guard.guarded
        app.router.add_get("/", guarded(self._page))
        app.router.add_get("/playground/static/{name}", guarded(self._static))
        app.router.add_get("/playground/events", guarded(self._events, page_call=True))
        app.router.add_post("/playground/command", guarded(self._command, page_call=True))
        app.router.add_post("/playground/action", guarded(self._action, page_call=True))
        app.router.add_post("/playground/view", guarded(self._submit_view, page_call=True))
        app.router.add_post("/playground/view/close", guarded(self._close_view, page_call=True))
        app.router.add_post("/playground/home", guarded(self._open_home, page_call=True))
        app.router.add_post("/playground/shortcut", guarded(self._shortcut, page_call=True))
        # The bot's side: a response_url is its own secret (unguessable, like Slack's), and
        # the Web API stand-in wants this run's bot token.
        app.router.add_post("/playground/respond/{hook}", guarded(self._respond))
        # Files upload v2: the upload URL is as unguessable as a response_url; the page loads
        # what was shared (an <img> sends no token: the file ID is the secret).
        app.router.add_post(UPLOAD_PATH + "{file_id}", guarded(self.files.receive))
        app.router.add_get(FILE_PATH + "{file_id}", guarded(self.files.serve))
        app.router.add_route("*", "/api/{method}", guarded(WebApi(self, token=self._token).answer))
        app.on_cleanup.append(self._close)

    async def _close(self, _app: web.Application) -> None:
        if self._http is not None:
            await self._http.close()

    # -- messages ---------------------------------------------------------------------------

    async def show(self, message: Message) -> Message:
        """Keep `message` (new or changed) and tell the page."""
        async with self._changed:
            self.messages[message.id] = message
            while len(self.messages) > MAX_MESSAGES:
                del self.messages[next(iter(self.messages))]
        await self.tell_page({"message": asdict(message)})
        return message

    async def tell_page(self, event: dict[str, Any]) -> None:
        """Tell the page: a message is new or changed, a modal opened or closed."""
        async with self._changed:
            self._seq += 1
            self.events.append({"seq": self._seq, **event})
            self._changed.notify_all()

    async def post(self, channel: str, author: str, text: str, **fields: Any) -> Message:
        """A new message in `channel`."""
        return await self.show(Message(next(self._ids), channel, author, text, **fields))

    async def _events(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0") or 0)
        except ValueError:
            raise web.HTTPBadRequest(text="after must be a number") from None

        async def newer() -> list[dict[str, Any]]:
            async with self._changed:
                while self._seq <= after:
                    await self._changed.wait()
                return [event for event in self.events if event["seq"] > after]

        try:
            found = await asyncio.wait_for(newer(), LONG_POLL_SECONDS)
        except TimeoutError:
            found = []
        return web.json_response(found)

    # -- the page ---------------------------------------------------------------------------

    async def _page(self, _request: web.Request) -> web.Response:
        items = "".join(
            f'<li><button class="channel" data-channel="{c.id}">'
            f"{'🔒' if c.private else '#'} {escape(c.name)}</button></li>"
            for c in self.channels.values()
            if not c.direct
        )
        apps = "".join(
            f'<li><button class="channel app" data-channel="{c.id}" data-app="home">'
            f"🤖 {escape(c.name)}</button></li>"
            for c in self.channels.values()
            if c.direct
        )
        address = f"<code>{escape(self.base_url)}</code>"
        reach = (
            f"It listens on {address}: anyone who can reach that address can use it, "
            "with no sign-in."
            if self.public
            else f"It listens on {address}, for this machine only."
        )
        html = resources.files(__package__).joinpath("static/index.html").read_text("utf-8")
        for name, value in (
            ("channels", items),
            ("apps", apps),
            ("reach", reach),
            ("token", escape(self.page_token)),
        ):
            html = html.replace(f"{{{{{name}}}}}", value)
        return web.Response(text=html, content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files(__package__).joinpath(f"static/{name}").read_bytes()
        return web.Response(body=body, content_type=STATIC[name])

    # -- the person at the keyboard ---------------------------------------------------------

    async def _command(self, request: web.Request) -> web.Response:
        form = await request.json()
        channel = str(form.get("channel", ""))
        text = str(form.get("text", "")).strip()
        self.user_tz = str(form.get("tz") or self.user_tz)
        if channel not in self.channels or not text:
            raise web.HTTPBadRequest(text="unknown channel or empty text")
        if text.startswith("/invite"):
            self.channels[channel].bot_member = True
            await self.post(channel, "system", "cdn-task-bot was added to the channel.")
            return web.json_response({"status": 200})
        if not text.startswith("/cdn"):
            if text.startswith("/"):
                note = "Only /cdn and /invite @cdn-task-bot work in the playground."
                await self.post(channel, "system", note, ephemeral=True)
            else:
                await self.post(channel, "you", text)
            return web.json_response({"status": 200})
        await self.post(channel, "you", text, ephemeral=True)
        body = wire.command_body(
            self._sender(channel),
            # Slack sends &, < and > as HTML entities whatever should_escape says.
            _entities(text[len("/cdn") :].strip()),
            response_url=self._new_hook(channel, None),
            trigger_id=self.modals.trigger(channel),
        )
        return web.json_response({"status": await self._to_bot(body)})

    async def _action(self, request: web.Request) -> web.Response:
        form = await request.json()
        action = {
            key: form[key]
            for key in ("action_id", "block_id", "type", "value", "selected_option")
            if key in form
        }
        if form.get("home"):
            # A click on the Home tab: no channel, no response_url, the view instead.
            if self.home.view is None:
                raise web.HTTPBadRequest(text="no Home was published")
            body = wire.home_actions_body(
                self._sender(APP_DM),
                action,
                view=self.home.view,
                view_id=self.home.view["id"],
                trigger_id=self.modals.trigger(APP_DM),
                action_ts=f"{time.time():.6f}",
            )
            return web.json_response({"status": await self._to_bot(body)})
        message = self.messages.get(int(form.get("message", 0)))
        if message is None:
            raise web.HTTPBadRequest(text="unknown message")
        body = wire.block_actions_body(
            self._sender(message.channel),
            action,
            response_url=self._new_hook(message.channel, message.id),
            trigger_id=self.modals.trigger(message.channel),
            action_ts=f"{time.time():.6f}",
            message_ts=message.ts,
            ephemeral=message.ephemeral,
        )
        return web.json_response({"status": await self._to_bot(body)})

    async def _open_home(self, request: web.Request) -> web.Response:
        """The person opened the app's Home tab: Slack tells the bot (every time)."""
        form = await request.json()
        self.user_tz = str(form.get("tz") or self.user_tz)
        body = self.home.opened(self._sender(APP_DM))
        status, _ = await self._send_to_bot(body, content_type=wire.JSON)
        return web.json_response({"status": status, "view": self.home.view})

    async def _shortcut(self, request: web.Request) -> web.Response:
        """A shortcut: "Check CDN tasks" on a message, or "New CDN refresh" from anywhere."""
        form = await request.json()
        channel = str(form.get("channel", ""))
        if channel not in self.channels:
            raise web.HTTPBadRequest(text="unknown channel")
        if form.get("callback_id") == SHORTCUTS["global"]:
            body = wire.global_shortcut_body(
                self._sender(channel), SHORTCUTS["global"], trigger_id=self.modals.trigger(channel)
            )
            return web.json_response({"status": await self._to_bot(body)})
        message = self.messages.get(int(form.get("message", 0)))
        if message is None or message.deleted or message.channel != channel:
            raise web.HTTPBadRequest(text="unknown message")
        author = {"bot": BOT_USER, "you": USER_ID}.get(message.author, "USLACKBOT")
        # As Slack sends a message: its text with &, < and > as entities unless the bot wrote it.
        text = message.text if message.author == "bot" else _entities(message.text)
        shown: dict[str, Any] = {"type": "message", "user": author, "text": text, "ts": message.ts}
        if message.blocks:
            shown["blocks"] = message.blocks
        body = wire.message_shortcut_body(
            self._sender(channel),
            SHORTCUTS["message"],
            shown,
            response_url=self._new_hook(channel, None),
            trigger_id=self.modals.trigger(channel),
        )
        return web.json_response({"status": await self._to_bot(body)})

    async def _submit_view(self, request: web.Request) -> web.Response:
        """Submit a modal with what the page's inputs hold; the bot's ack says what follows:
        errors shown under the fields, or the modal closes."""
        form = await request.json()
        opened = self.modals.views.get(str(form.get("view", "")))
        inputs = form.get("inputs")
        if opened is None or not isinstance(inputs, dict):
            raise web.HTTPBadRequest(text="unknown view")
        body = wire.view_submission_body(
            self._sender(opened.channel),
            opened.view,
            view_id=opened.id,
            values=state_values(opened.view, inputs, conversations=frozenset(self.channels)),
            trigger_id=self.modals.trigger(opened.channel),
        )
        status, text = await self._send_to_bot(body)
        answer = json.loads(text) if status == 200 and text.strip() else {}
        if not isinstance(answer, dict):
            answer = {}
        errors = answer.get("errors") if answer.get("response_action") == "errors" else None
        closed = status == 200 and not errors
        if closed:
            await self._forget_view(opened.id)
        return web.json_response({"status": status, "errors": errors or {}, "closed": closed})

    async def _close_view(self, request: web.Request) -> web.Response:
        form = await request.json()
        await self._forget_view(str(form.get("view", "")))
        return web.json_response({"closed": True})

    async def _forget_view(self, view_id: str) -> None:
        if self.modals.close(view_id) is not None:
            await self.tell_page({"view_closed": view_id})

    def _sender(self, channel: str) -> wire.Sender:
        return wire.Sender(
            user_id=USER_ID,
            user_name=USER_NAME,
            team_id=TEAM_ID,
            team_domain="playground",
            channel_id=channel,
            channel_name=self.channels[channel].name,
            app_id=APP_ID,
        )

    def _new_hook(self, channel: str, origin: int | None) -> str:
        now = self._clock()
        for stale in [key for key, hook in self._hooks.items() if hook.expires <= now]:
            del self._hooks[stale]
        while len(self._hooks) >= MAX_HOOKS:
            del self._hooks[next(iter(self._hooks))]
        key = secrets.token_urlsafe(16)
        self._hooks[key] = Hook(channel, origin, expires=now + HOOK_SECONDS)
        return f"{self.base_url}/playground/respond/{key}"

    async def _to_bot(self, body: bytes) -> int:
        """Deliver a request to the bot's /slack/events exactly as Slack would: signed."""
        status, _ = await self._send_to_bot(body)
        return status

    async def _send_to_bot(self, body: bytes, *, content_type: str = wire.FORM) -> tuple[int, str]:
        """The bot's HTTP status and body for a signed request (its ack's body)."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        headers = wire.signed_headers(
            body, secret=self._secret, timestamp=int(time.time()), content_type=content_type
        )
        async with self._http.post(
            f"{self.base_url}/slack/events", data=body, headers=headers
        ) as answer:
            return answer.status, await answer.text()

    # -- the bot's side of Slack ------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        hook = self._hooks.get(request.match_info["hook"])
        if hook is None or hook.expires <= self._clock():
            return web.Response(status=404, text="expired_url")
        if hook.uses_left <= 0:
            return web.Response(status=404, text="used_url")
        hook.uses_left -= 1
        reply = await request.json()
        origin = self.messages.get(hook.origin) if hook.origin is not None else None
        if origin is not None and reply.get("delete_original"):
            origin.deleted = True
            await self.show(origin)
        elif origin is not None and reply.get("replace_original"):
            origin.text, origin.blocks = reply.get("text", ""), reply.get("blocks", [])
            await self.show(origin)
        else:
            visible = reply.get("response_type") == "in_channel"
            await self.post(
                hook.channel,
                "bot",
                reply.get("text", ""),
                blocks=reply.get("blocks", []),
                ephemeral=not visible,
            )
        return web.Response(text="ok")
