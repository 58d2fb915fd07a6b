"""The aiohttp-backed transport over real sockets: bodies, encodings and every failure mode."""

from __future__ import annotations

import asyncio
import gzip
import socket

import httpx
import pytest
from aiohttp import web

from bot.cdn.transport import AiohttpTransport


@pytest.fixture
async def server():
    """A tiny HTTP server whose routes misbehave on purpose; yields its base URL."""
    release = asyncio.Event()

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {"query": request.raw_path.partition("?")[2], "body": body.decode()}
        )

    async def gzipped(_request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b'{"ok": true}'),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    async def slow(_request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b'{"RequestId": ')
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/slow", slow)
    app.router.add_get("/truncated", truncated)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    release.set()
    await runner.cleanup()


@pytest.fixture
async def transport():
    sender = AiohttpTransport()
    yield sender
    await sender.aclose()


async def send(transport, method, url, *, timeout=5.0, **options):
    request = httpx.Request(method, url, **options)
    request.extensions["timeout"] = {"connect": timeout, "read": timeout}
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


async def test_query_is_sent_exactly_as_encoded(server, transport):
    url = httpx.URL(f"{server}/echo").copy_with(query=b"a=%2A%20~&b=%2F%3D")
    response = await send(transport, "POST", url, content=b"x=1")
    assert response.json()["query"] == "a=%2A%20~&b=%2F%3D"
    assert response.json()["body"] == "x=1"


async def test_content_encoding_is_decoded_once(server, transport):
    assert (await send(transport, "GET", f"{server}/gzip")).json() == {"ok": True}


async def test_read_timeout(server, transport):
    with pytest.raises(httpx.ReadTimeout):
        await send(transport, "GET", f"{server}/slow", timeout=0.2)


async def test_cut_connection_is_a_protocol_error(server, transport):
    with pytest.raises(httpx.RemoteProtocolError):
        await send(transport, "GET", f"{server}/truncated")


async def test_refused_connection_is_a_connect_error(transport):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await send(transport, "GET", f"http://127.0.0.1:{port}/")


async def test_closed_transport_reopens_on_next_use(server, transport):
    await send(transport, "GET", f"{server}/gzip")
    await transport.aclose()
    assert (await send(transport, "GET", f"{server}/gzip")).status_code == 200
