"""The playground's Slack side without a browser: auth, channels, response_url semantics."""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp import web

from bot.playground import server
from bot.playground.server import Playground


async def accept(_request: web.Request) -> web.Response:
    return web.Response()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hook_clock() -> Clock:
    return Clock()


@pytest.fixture
async def served(hook_clock):
    """The playground mounted on an app whose /slack/events accepts everything (no bot)."""
    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    play = Playground(base_url=base, signing_secret="s", bot_token="xoxb-t", clock=hook_clock)
    app = web.Application()
    app.router.add_post("/slack/events", accept)
    app.router.add_get("/healthz", accept)
    play.mount(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    yield play, base
    await runner.cleanup()
    sock.close()


@pytest.fixture
async def playground(served):
    """The playground and a client that behaves like its own page."""
    play, base = served
    page = {"Origin": base, "X-Playground-Token": play.page_token}
    async with httpx.AsyncClient(base_url=base, headers=page) as http:
        yield play, http


@pytest.fixture
async def stranger(served):
    """The playground and a client with none of the page's credentials."""
    play, base = served
    async with httpx.AsyncClient(base_url=base) as http:
        yield play, http


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


async def test_the_page_carries_this_runs_token_and_says_who_can_reach_it(playground):
    play, http = playground
    page = (await http.get("/")).text
    assert f'content="{play.page_token}"' in page and "this machine only" in page
    other = Playground(base_url=play.base_url, signing_secret="s", bot_token="xoxb-t")
    assert other.page_token != play.page_token and len(play.page_token) >= 32
    public = Playground(
        base_url="http://0.0.0.0:3000", signing_secret="s", bot_token="xoxb-t", public=True
    )
    assert public.public and "this machine only" not in await page_of(public)


async def page_of(play):
    response = await play._page(None)
    return response.text


async def test_a_cross_site_form_cannot_drive_the_playground(stranger):
    play, http = stranger
    # What any web page can make the browser send, no preflight needed.
    attack = {"Content-Type": "text/plain", "Origin": "https://evil.example"}
    body = '{"channel": "C0GENERAL", "text": "/cdn subscribe"}'
    answer = await http.post("/playground/command", content=body, headers=attack)
    assert answer.status_code in (403, 415)
    # Even with the right content type and our own Origin, the token is required.
    same_origin = {"Origin": play.base_url}
    no_token = await http.post(
        "/playground/command", json={"channel": "C0GENERAL", "text": "hi"}, headers=same_origin
    )
    assert no_token.status_code == 403
    assert (await http.get("/playground/events", params={"after": 0})).status_code == 403
    assert play.messages == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # a simple request: the token is not enough
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"X-Playground-Token": "wrong"},
        {"Origin": None},  # a POST must say where it comes from
    ],
)
async def test_every_page_call_needs_json_same_origin_and_the_token(playground, headers):
    play, http = playground
    request = http.build_request(
        "POST", "/playground/command", json={"channel": "C0GENERAL", "text": "hello"}
    )
    for name, value in headers.items():
        if value is None:
            del request.headers[name]
        else:
            request.headers[name] = value
    assert (await http.send(request)).status_code in (403, 415)
    assert play.messages == {}


async def test_dns_rebinding_is_refused_by_host(playground):
    play, http = playground
    port = play.base_url.rsplit(":", 1)[1]
    rebound = {"Host": f"attacker.example:{port}"}
    for path in ("/", "/playground/events", "/playground/static/app.js"):
        assert (await http.get(path, headers=rebound)).status_code == 403
    posted = await post_message(http, "C0GENERAL", "x", headers={**BOT, **rebound})
    assert posted.status_code == 403
    # Our own names still work, and the bot's routes are not the playground's to guard.
    assert (await http.get("/", headers={"Host": f"localhost:{port}"})).status_code == 200
    assert (await http.get("/healthz", headers=rebound)).status_code == 200
    assert (await http.post("/slack/events", headers=rebound)).status_code == 200


def test_host_rules():
    from bot.playground.guard import Guard

    local = Guard("http://127.0.0.1:3000", token="t")
    assert local.host_allowed("127.0.0.1:3000") and local.host_allowed("localhost:3000")
    assert not local.host_allowed("127.0.0.1:3001")
    assert not local.host_allowed("rebind.attacker.example:3000")
    assert not local.host_allowed("")
    everywhere = Guard("http://0.0.0.0:3000", token="t", public=True)
    assert everywhere.host_allowed("192.168.1.20:3000")
    assert not everywhere.host_allowed("rebind.attacker.example:3000")
    lan = Guard("http://192.168.1.20:3000", token="t", public=True)
    assert lan.host_allowed("192.168.1.20:3000") and not lan.host_allowed("10.0.0.1:3000")


async def test_the_bot_token_is_the_one_given(playground):
    _play, http = playground
    fixed = await post_message(
        http, "C0GENERAL", "x", headers={"Authorization": "Bearer xoxb-playground-local"}
    )
    assert fixed.json()["error"] == "invalid_auth"


async def test_memory_is_bounded(playground, monkeypatch):
    play, http = playground
    monkeypatch.setattr(server, "MAX_MESSAGES", 5)
    monkeypatch.setattr(server, "MAX_HOOKS", 3)
    for n in range(12):
        await post_message(http, "C0GENERAL", f"m{n}", headers=BOT)
    assert [m.text for m in play.messages.values()] == [f"m{n}" for n in range(7, 12)]
    assert len(play.events) <= server.MAX_EVENTS
    events = (await http.get("/playground/events", params={"after": 10})).json()
    assert [e["message"]["text"] for e in events] == ["m10", "m11"]
    for _ in range(5):
        await command(http, "C0GENERAL", "/cdn help")
    assert len(play._hooks) == 3


async def test_a_response_url_works_five_times_for_thirty_minutes(playground, hook_clock):
    play, http = playground
    await command(http, "C0GENERAL", "/cdn help")
    await command(http, "C0GENERAL", "/cdn help")
    first, second = list(play._hooks)
    assert len(first) >= 16  # not guessable from the one before
    answers = [
        (await http.post(f"/playground/respond/{first}", json={"text": f"r{n}"})).status_code
        for n in range(6)
    ]
    assert answers == [200] * 5 + [404]
    hook_clock.now += 30 * 60
    late = await http.post(f"/playground/respond/{second}", json={"text": "late"})
    assert (late.status_code, late.text) == (404, "expired_url")
