"""What the playground sends to /slack/events passes the bot's own signature check and reads,
to Bolt, as the slash command or button click the person made."""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp import web
from slack_bolt.request import internals, payload_utils

from bot.playground.server import TEAM_ID, USER_ID, Playground
from bot.slack.verify import Verifier, verified_only

SECRET = "playground-signing-secret"


@pytest.fixture
async def delivered():
    """A playground whose /slack/events is guarded by the bot's verifier, and what got past it."""
    received: list[dict] = []

    async def events(request: web.Request) -> web.Response:
        text = (await request.read()).decode()
        received.append(internals.parse_body(text, request.content_type))
        return web.Response()

    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    play = Playground(base_url=base, signing_secret=SECRET, bot_token="xoxb-t")
    app = web.Application(middlewares=[verified_only(Verifier(SECRET), path="/slack/events")])
    app.router.add_post("/slack/events", events)
    play.mount(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    page = {"Origin": base, "X-Playground-Token": play.page_token}
    async with httpx.AsyncClient(base_url=base, headers=page) as http:
        yield play, http, received
    await runner.cleanup()
    sock.close()


async def test_a_command_arrives_signed_and_shaped_like_slacks(delivered):
    play, http, received = delivered
    sent = await http.post(
        "/playground/command", json={"channel": "C0CDNOPS1", "text": "/cdn failed a<b"}
    )
    assert sent.json() == {"status": 200}
    (body,) = received
    assert payload_utils.is_slash_command(body)
    assert (body["command"], body["text"]) == ("/cdn", "failed a&lt;b")
    assert (body["user_id"], body["team_id"], body["channel_id"]) == (USER_ID, TEAM_ID, "C0CDNOPS1")
    assert body["channel_name"] == "cdn-ops"
    assert body["response_url"].startswith(f"{play.base_url}/playground/respond/")


async def test_a_click_arrives_signed_and_shaped_like_slacks(delivered):
    play, http, received = delivered
    posted = await http.post(
        "/api/chat.postMessage",
        json={"channel": "C0GENERAL", "text": "page 1"},
        headers={"Authorization": "Bearer xoxb-t"},
    )
    assert posted.json()["ok"]
    (message,) = play.messages.values()
    click = {"message": message.id, "action_id": "next", "block_id": "b", "value": "q"}
    assert (await http.post("/playground/action", json=click)).json() == {"status": 200}
    (body,) = received
    assert payload_utils.is_block_actions(body)
    (action,) = body["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == ("next", "b", "q")
    assert body["container"]["message_ts"] == message.ts
    assert body["container"]["is_ephemeral"] is False
    assert internals.extract_user_id(body) == USER_ID
    assert internals.extract_channel_id(body) == "C0GENERAL"
