"""The playground's Slack side without a browser: auth, channels, response_url semantics."""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp import web

from bot.playground.server import Playground


async def accept(_request: web.Request) -> web.Response:
    return web.Response()


@pytest.fixture
async def playground():
    """The playground mounted on an app whose /slack/events accepts everything (no bot)."""
    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    play = Playground(base_url=base, signing_secret="s", bot_token="xoxb-t")
    app = web.Application()
    app.router.add_post("/slack/events", accept)
    play.mount(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    async with httpx.AsyncClient(base_url=base) as http:
        yield play, http
    await runner.cleanup()
    sock.close()


async def command(http, channel, text, **extra):
    await http.post("/playground/command", json={"channel": channel, "text": text, **extra})


async def post_message(http, channel, text, **headers):
    return await http.post(
        "/api/chat.postMessage", json={"channel": channel, "text": text}, **headers
    )


BOT = {"Authorization": "Bearer xoxb-t"}


async def test_the_page_says_it_is_local(playground):
    play, http = playground
    page = (await http.get("/")).text
    assert "Local playground, not Slack" in page and play.base_url in page and "secret" in page
    assert (await http.get("/playground/static/app.js")).status_code == 200
    assert (await http.get("/playground/static/server.py")).status_code == 404


async def test_web_api_checks_the_token_and_private_channels(playground):
    play, http = playground
    wrong = await http.post("/api/chat.postMessage", json={"channel": "C0GENERAL", "text": "x"})
    assert wrong.json()["error"] == "invalid_auth"
    private = await http.post(
        "/api/chat.postMessage", json={"channel": "G0SECRET1", "text": "x"}, headers=BOT
    )
    assert private.json()["error"] == "not_in_channel"
    posted = await http.post(
        "/api/chat.postMessage", json={"channel": "C0GENERAL", "text": "hi"}, headers=BOT
    )
    assert posted.json()["ok"] and [m.text for m in play.messages.values()] == ["hi"]


async def test_response_urls_replace_delete_or_add(playground):
    play, http = playground
    await http.post(
        "/playground/command",
        json={"channel": "C0GENERAL", "text": "/cdn help", "tz": "Asia/Tokyo"},
    )
    command_hook = next(iter(play._hooks))
    await http.post(f"/playground/respond/{command_hook}", json={"text": "answer", "blocks": []})
    answer = next(m for m in play.messages.values() if m.text == "answer")
    assert answer.ephemeral and play.user_tz == "Asia/Tokyo"
    await http.post(
        "/playground/action", json={"message": answer.id, "action_id": "a", "value": "v"}
    )
    click_hook = list(play._hooks)[-1]
    await http.post(
        f"/playground/respond/{click_hook}", json={"text": "page 2", "replace_original": True}
    )
    assert play.messages[answer.id].text == "page 2"
    await http.post(
        f"/playground/respond/{click_hook}", json={"text": "shared", "response_type": "in_channel"}
    )
    shared = next(m for m in play.messages.values() if m.text == "shared")
    assert not shared.ephemeral
    await http.post(f"/playground/respond/{click_hook}", json={"delete_original": True})
    assert play.messages[answer.id].deleted
    assert (await http.post("/playground/respond/999", json={})).status_code == 404


async def test_invite_and_plain_messages(playground):
    play, http = playground
    await http.post(
        "/playground/command", json={"channel": "G0SECRET1", "text": "/invite @cdn-task-bot"}
    )
    assert play.channels["G0SECRET1"].bot_member
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": "hello team"})
    await http.post("/playground/command", json={"channel": "C0GENERAL", "text": "/giphy cat"})
    texts = [(m.author, m.text) for m in play.messages.values()]
    assert ("you", "hello team") in texts and any("Only /cdn" in t for _, t in texts)
    events = (await http.get("/playground/events", params={"after": 0})).json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
