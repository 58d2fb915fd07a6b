"""The playground served on port 0 with a stand-in for the bot at /slack/events (behind the
bot's own signature check), and a client that behaves like the playground's page."""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp import web
from slack_bolt.request import internals

from bot.playground.server import Playground
from bot.slack.verify import Verifier, verified_only

SECRET = "playground-signing-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Bot:
    """What stands in for the bot at /slack/events: what it received, and its next ack."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.ack: dict | None = None

    async def events(self, request: web.Request) -> web.Response:
        text = (await request.read()).decode()
        self.received.append(internals.parse_body(text, request.content_type))
        if self.ack is None:
            return web.Response()
        return web.json_response(self.ack)


@pytest.fixture
async def world():
    clock, bot = Clock(), Bot()
    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    play = Playground(base_url=base, signing_secret=SECRET, bot_token="xoxb-t", clock=clock)
    app = web.Application(middlewares=[verified_only(Verifier(SECRET), path="/slack/events")])
    app.router.add_post("/slack/events", bot.events)
    play.mount(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    page = {"Origin": base, "X-Playground-Token": play.page_token}
    async with httpx.AsyncClient(base_url=base, headers=page) as http:
        yield play, http, bot, clock
    await runner.cleanup()
    sock.close()
