"""Files upload v2 into the playground, driven by slack_sdk itself: the DM opened, the bytes
taken once, the PNG shown in the channel or DM where it was shared, and nothing else served."""

from __future__ import annotations

import socket

import aiohttp
import httpx
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.playground import files as files_module
from bot.playground.server import Playground
from bot.playground.workspace import APP_DM, USER_ID

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture
async def served():
    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    play = Playground(base_url=base, signing_secret="s", bot_token="xoxb-t")
    app = web.Application()
    play.mount(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token="xoxb-t", base_url=f"{base}/api/", session=session)
        async with httpx.AsyncClient(base_url=base) as http:
            yield play, client, http
    await runner.cleanup()
    sock.close()


async def upload(client, channel, data=PNG):
    return await client.files_upload_v2(
        channel=channel,
        content=data,
        filename="chart.png",
        title="Tasks per hour",
        alt_txt="bars",
        initial_comment=":bar_chart: CDN tasks · 1 d",
    )


async def test_a_chart_lands_in_the_dm_and_the_page_can_load_it(served):
    play, client, http = served
    opened = await client.conversations_open(users=USER_ID)
    assert opened["channel"]["id"] == APP_DM
    done = await upload(client, APP_DM)
    (message,) = play.messages.values()
    assert (message.channel, message.author, message.text) == (
        APP_DM,
        "bot",
        ":bar_chart: CDN tasks · 1 d",
    )
    (shown,) = message.files
    assert shown["title"] == "Tasks per hour" and shown["alt"] == "bars"
    assert done["file"]["permalink"].endswith(shown["url"])
    image = await http.get(shown["url"])
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"


async def test_a_private_channel_needs_the_bot_and_other_people_have_no_dm(served):
    play, client, _ = served
    with pytest.raises(SlackApiError) as refused:
        await upload(client, "G0SECRET1")
    assert refused.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError) as nobody:
        await client.conversations_open(users="U0SOMEONE")
    assert nobody.value.response["error"] == "user_not_found"
    await upload(client, "C0CDNOPS1")
    assert [m.channel for m in play.messages.values()] == ["C0CDNOPS1"]


async def test_bytes_go_once_as_announced_and_only_pngs_show_inline(served):
    play, client, http = served
    announced = await client.files_getUploadURLExternal(filename="x.txt", length=5)
    url = announced["upload_url"]
    assert (await http.post(url, content=b"toolongforit")).status_code == 413
    assert (await http.post(url, content=b"hello")).status_code == 200
    assert (await http.post(url, content=b"hello")).status_code == 404  # once only
    await client.files_completeUploadExternal(
        files=[{"id": announced["file_id"], "title": "x"}], channel_id="C0GENERAL"
    )
    (message,) = play.messages.values()
    served_file = await http.get(message.files[0]["url"])
    assert served_file.headers["content-type"] == "application/octet-stream"
    assert served_file.headers["content-disposition"] == "attachment"
    assert (await http.get("/playground/files/FNOSUCHFILE")).status_code == 404
    with pytest.raises(SlackApiError) as missing:
        await client.files_completeUploadExternal(files=[{"id": "FNOPE"}], channel_id="C0GENERAL")
    assert missing.value.response["error"] == "file_not_found"


async def test_uploads_are_bounded(served, monkeypatch):
    play, client, _ = served
    monkeypatch.setattr(files_module, "MAX_FILES", 3)
    ids = [
        (await client.files_getUploadURLExternal(filename="c.png", length=8))["file_id"]
        for _ in range(5)
    ]
    assert list(play.files._files) == ids[2:]
    with pytest.raises(SlackApiError) as large:
        await client.files_getUploadURLExternal(
            filename="big.png", length=files_module.MAX_BYTES + 1
        )
    assert large.value.response["error"] == "file_too_large"
