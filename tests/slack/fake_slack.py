"""A local stand-in for Slack: Web API methods, response_url receivers, Socket Mode, and the
upload URLs of files upload v2.

Everything it receives is recorded; tests wait on conditions, never on the clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from bot.slack import wire

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TRIGGER_ID = "1.2.3"


def signed_headers(
    body: bytes,
    *,
    secret: str = SIGNING_SECRET,
    at: float | None = None,
    content_type: str | None = None,
):
    """The headers Slack adds to a request it sends to the app (the Events API's bodies are
    JSON, the rest forms)."""
    if content_type is None:
        content_type = wire.JSON if body.startswith(b"{") else wire.FORM
    return wire.signed_headers(
        body,
        secret=secret,
        timestamp=int(time.time() if at is None else at),
        content_type=content_type,
    )


class FakeSlack:
    """Web API under /api/, response_url receivers under /respond/<id>, Socket Mode at /socket,
    upload URLs under /upload/<file id>."""

    def __init__(self) -> None:
        self.url = ""
        self.api_calls: list[tuple[str, dict[str, Any]]] = []
        self.tokens: list[tuple[str, str]] = []  # the token each Web API call came with
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.respond_status = 200
        self.respond_redirect: str | None = None  # where response_url answers redirect to
        self.timezones = {"U0ANA1234": ("Asia/Shanghai", 28800)}
        self.users_info_gate: asyncio.Event | None = None
        self.socket_acks: list[dict[str, Any]] = []
        self.posts: list[tuple[str, dict[str, Any]]] = []  # accepted chat.postMessage calls
        self.channel_errors: dict[str, str] = {}  # channel → the error its posts get
        self.rate_limited = 0  # how many coming posts get HTTP 429
        self.server_errors = 0  # how many coming posts get HTTP 500
        self.groups: dict[str, list[str]] = {}  # user group → members
        self.views_open_error: str | None = None  # what views.open answers, if it fails
        self.views_publish_error: str | None = None
        self.complete_error: str | None = None  # what functions.complete* answer, if they fail
        # user → the channels users.conversations lists; None: it answers missing_scope.
        self.memberships: dict[str, list[str]] | None = {}
        # Files upload v2: what files.getUploadURLExternal handed out, by file ID, with the
        # bytes POSTed to its URL and where files.completeUploadExternal shared it.
        self.files: dict[str, dict[str, Any]] = {}
        self.upload_errors: dict[str, str] = {}  # channel → what completeUploadExternal answers
        self.upload_status = 200  # what the upload URL answers
        self.upload_gate: asyncio.Event | None = None  # holds the upload URL's answer back
        self.open_error: str | None = None  # what conversations.open answers, if it fails
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._hooks = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{hook}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/posts", self._list_posts)
        app.router.add_get("/responses", self._list_responses)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    # -- what tests use ---------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def new_response_url(self) -> str:
        return f"{self.url}/respond/{next(self._hooks)}"

    async def wait_for(self, found: Callable[[], Any], *, timeout: float = 15) -> Any:
        """Wait until `found()` returns something truthy, re-checking on every new request."""

        async def watch() -> Any:
            async with self._changed:
                while not (result := found()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(watch(), timeout)

    async def response_to(
        self, response_url: str, *, count: int = 1, timeout: float = 15
    ) -> list[dict[str, Any]]:
        hook = response_url.rsplit("/", 1)[1]

        def bodies() -> list[dict[str, Any]]:
            sent = [body for name, body in self.responses if name == hook]
            return sent if len(sent) >= count else []

        return await self.wait_for(bodies, timeout=timeout)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [body for name, body in self.api_calls if name == method]

    @staticmethod
    def dm_of(user: str) -> str:
        """The ID conversations.open gives for `user`'s DM with the app."""
        return "D" + user.removeprefix("U")

    def shared_files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The files completed into a channel (into `channel`), with their bytes, oldest first."""
        return [
            file
            for file in self.files.values()
            if file.get("channel") and channel in (None, file["channel"])
        ]

    async def send_over_socket(self, envelope: dict[str, Any], *, to: int = -1) -> None:
        """Deliver `envelope` over one open Socket Mode connection (by default the newest;
        `to` counts them in the order they opened), as Slack picks one per event."""
        socket = await self.wait_for(lambda: len(self._sockets) > to and self._sockets[to])
        await socket.send_json(envelope)

    @property
    def sockets(self) -> int:
        """How many Socket Mode connections were opened."""
        return len(self._sockets)

    # -- handlers ---------------------------------------------------------------------------

    async def _note(self, record: Callable[[], None]) -> None:
        async with self._changed:
            record()
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body.update(await request.json())
        elif request.can_read_body:
            body.update({k: str(v) for k, v in (await request.post()).items()})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.tokens.append((method, token))
        await self._note(lambda: self.api_calls.append((method, body)))
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "cdn"}
            )
        if method == "users.info":
            if self.users_info_gate is not None:
                await self.users_info_gate.wait()
            user = str(body.get("user", ""))
            if user not in self.timezones:
                return web.json_response({"ok": False, "error": "user_not_found"})
            name, offset = self.timezones[user]
            return web.json_response(
                {"ok": True, "user": {"id": user, "tz": name, "tz_offset": offset}}
            )
        if method == "usergroups.users.list":
            group = str(body.get("usergroup", ""))
            if group not in self.groups:
                return web.json_response({"ok": False, "error": "no_such_subteam"})
            return web.json_response({"ok": True, "users": self.groups[group]})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket"})
        if method == "chat.postMessage":
            return await self._post_message(body)
        if method == "chat.update":
            # Recorded in api_calls with the rest; the message is changed in place.
            return web.json_response(
                {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
            )
        if method == "views.open":
            if self.views_open_error is not None:
                return web.json_response({"ok": False, "error": self.views_open_error})
            view = body.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return web.json_response({"ok": True, "view": {**view, "id": "V0FORM"}})
        if method == "views.publish":
            if self.views_publish_error is not None:
                return web.json_response({"ok": False, "error": self.views_publish_error})
            view = body.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return web.json_response({"ok": True, "view": {**view, "id": "V0HOME"}})
        if method in ("functions.completeSuccess", "functions.completeError"):
            if self.complete_error is not None:
                return web.json_response({"ok": False, "error": self.complete_error})
            return web.json_response({"ok": True})
        if method == "users.conversations":
            if self.memberships is None:
                return web.json_response(
                    {"ok": False, "error": "missing_scope", "needed": "channels:read"}
                )
            channels = self.memberships.get(str(body.get("user", "")), [])
            return web.json_response(
                {
                    "ok": True,
                    "channels": [{"id": channel} for channel in channels],
                    "response_metadata": {"next_cursor": ""},
                }
            )
        if method == "conversations.open":
            if self.open_error is not None:
                return web.json_response({"ok": False, "error": self.open_error})
            users = str(body.get("users", ""))
            if not users or "," in users:
                return web.json_response({"ok": False, "error": "not_enough_users"})
            return web.json_response({"ok": True, "channel": {"id": self.dm_of(users)}})
        if method == "files.getUploadURLExternal":
            return self._upload_url(body)
        if method == "files.completeUploadExternal":
            return await self._complete_upload(body)
        if method == "chat.postEphemeral":
            channel = str(body.get("channel", ""))
            if channel in self.channel_errors:
                return web.json_response({"ok": False, "error": self.channel_errors[channel]})
            return web.json_response({"ok": True, "message_ts": f"{time.time():.6f}"})
        return web.json_response({"ok": False, "error": "unknown_method"})

    def _upload_url(self, body: dict[str, Any]) -> web.Response:
        length, filename = str(body.get("length", "")), str(body.get("filename", ""))
        if not filename or not length.isdigit():
            return web.json_response({"ok": False, "error": "invalid_arguments"})
        file_id = f"F{len(self.files) + 1:08d}"
        self.files[file_id] = {
            "id": file_id,
            "filename": filename,
            "length": int(length),
            "alt_txt": body.get("alt_txt"),
            "data": None,
        }
        return web.json_response(
            {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        data = await request.read()
        if self.upload_gate is not None:
            await self.upload_gate.wait()
        if file is None or file["data"] is not None or len(data) != file["length"]:
            return web.Response(status=400, text="bad upload")
        await self._note(lambda: file.update(data=data))
        if self.upload_status != 200:
            return web.Response(status=self.upload_status, text="upload failed")
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, body: dict[str, Any]) -> web.Response:
        listed = body.get("files")
        listed = json.loads(listed) if isinstance(listed, str) else listed
        channel = str(body.get("channel_id") or "")
        if channel in self.upload_errors:
            return web.json_response({"ok": False, "error": self.upload_errors[channel]})
        done = []
        for item in listed or []:
            file = self.files.get(str(item.get("id")))
            if file is None or file["data"] is None:
                return web.json_response({"ok": False, "error": "file_not_found"})
            done.append((file, item))
        for file, item in done:
            file.update(
                channel=channel,
                title=item.get("title"),
                initial_comment=body.get("initial_comment"),
                permalink=f"https://example.slack.com/files/UBOT/{file['id']}",
            )
        await self._note(lambda: None)
        shared = [
            {"id": f["id"], "title": f["title"], "permalink": f["permalink"]} for f, _ in done
        ]
        return web.json_response({"ok": True, "files": shared})

    async def _list_posts(self, request: web.Request) -> web.Response:
        """What was posted (to ?channel=), with arrival times, for a benchmark elsewhere."""
        wanted = request.query.get("channel")
        return web.json_response(
            [
                {"channel": channel, "at": body["_at"], "body": body}
                for channel, body in self.posts
                if wanted in (None, channel)
            ]
        )

    async def _list_responses(self, request: web.Request) -> web.Response:
        """The replies that reached one response_url (?hook=), for a benchmark elsewhere."""
        hook = request.query.get("hook")
        return web.json_response([body for name, body in self.responses if name == hook])

    async def _post_message(self, body: dict[str, Any]) -> web.Response:
        channel = str(body.get("channel", ""))
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return web.Response(status=500, text="upstream connect error")
        if channel in self.channel_errors:
            return web.json_response({"ok": False, "error": self.channel_errors[channel]})
        body["_at"] = time.time()
        body["_ts"] = ts = f"{body['_at']:.6f}"  # the message's ts, as chat.update names it
        await self._note(lambda: self.posts.append((channel, body)))
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    async def serve_forever(self) -> None:
        """Run until cancelled, printing the base URL first (for a separate process)."""
        print(await self.start(), flush=True)
        await asyncio.Event().wait()

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [body for name, body in self.posts if name == channel]

    @property
    def _port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def _respond(self, request: web.Request) -> web.Response:
        hook = request.match_info["hook"]
        body = await request.json()
        await self._note(lambda: self.responses.append((hook, body)))
        if self.respond_redirect is not None:
            raise web.HTTPTemporaryRedirect(self.respond_redirect)
        if self.respond_status != 200:
            return web.Response(status=self.respond_status, text="expired_url")
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1})
        await self._note(lambda: self._sockets.append(socket))
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                await self._note(lambda data=data: self.socket_acks.append(data))
        return socket


def slash_command(text: str, *, response_url: str, user: str = "U0ANA1234") -> bytes:
    """The form body Slack sends for `/cdn <text>`."""
    return wire.command_body(sender(user), text, response_url=response_url, trigger_id=TRIGGER_ID)


def button_click(action: dict[str, Any], *, response_url: str, user: str = "U0ANA1234") -> bytes:
    """The form body Slack sends when someone clicks `action` on an ephemeral message."""
    return wire.block_actions_body(
        sender(user),
        {**action, "block_id": "b1"},
        response_url=response_url,
        trigger_id=TRIGGER_ID,
        action_ts=f"{time.time():.6f}",
    )


def sender(user: str = "U0ANA1234") -> wire.Sender:
    """Who the stand-in's requests come from: `user` in #ops (C1) of team T1."""
    return wire.Sender(
        user_id=user,
        user_name="ana",
        team_id="T1",
        team_domain="example",
        channel_id="C1",
        channel_name="ops",
        app_id="A1",
        token="legacy",
    )


def form_submission(
    view: dict[str, Any], values: dict[str, Any], *, user: str = "U0ANA1234"
) -> bytes:
    """The form body Slack sends when someone submits the modal `view` with `values`."""
    return wire.view_submission_body(
        sender(user), view, view_id="V0FORM", values=values, trigger_id=TRIGGER_ID
    )


def home_opened(
    user: str = "U0ANA1234", *, channel: str = "D0ANA1234", event_id: str = ""
) -> bytes:
    """The Events API body Slack sends when `user` opens the bot's Home tab."""
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    return wire.event_body(sender(user), event, event_id=event_id or f"Ev{time.time_ns()}")


def home_click(action: dict[str, Any], view: dict[str, Any], *, user: str = "U0ANA1234") -> bytes:
    """The form body Slack sends when `user` clicks `action` on the Home `view` published."""
    return wire.home_actions_body(
        sender(user),
        {**action, "block_id": "b1"},
        view=view,
        view_id="V0HOME",
        trigger_id=TRIGGER_ID,
        action_ts=f"{time.time():.6f}",
    )


def message_shortcut(
    message: dict[str, Any], *, response_url: str, user: str = "U0ANA1234"
) -> bytes:
    """The form body Slack sends when `user` picks "Check CDN tasks" on `message` in #ops."""
    message = {"type": "message", "user": "U0BOB0001", "ts": f"{time.time():.6f}", **message}
    return wire.message_shortcut_body(
        sender(user), "cdn_check_links", message, response_url=response_url, trigger_id=TRIGGER_ID
    )


def global_shortcut(user: str = "U0ANA1234") -> bytes:
    """The form body Slack sends when `user` picks "New CDN refresh"."""
    return wire.global_shortcut_body(sender(user), "cdn_new_refresh", trigger_id=TRIGGER_ID)


def function_executed(
    callback_id: str, inputs: dict[str, Any], *, execution_id: str, event_id: str = ""
) -> bytes:
    """The Events API body Slack sends when a workflow runs the step `callback_id`."""
    event = {
        "type": "function_executed",
        "function": {"id": "Fn0STEP", "callback_id": callback_id, "type": "app", "app_id": "A1"},
        "inputs": inputs,
        "function_execution_id": execution_id,
        "workflow_execution_id": "Wx0RUN",
        "event_ts": f"{time.time():.6f}",
        "bot_access_token": "xwfp-just-in-time",
    }
    return wire.event_body(sender(), event, event_id=event_id or f"Ev{time.time_ns()}")
