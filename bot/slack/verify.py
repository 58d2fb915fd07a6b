"""Slack's request signature (v0, HMAC-SHA256 over the raw body and timestamp), checked on
POST /slack/events before anything parses, logs or dispatches the body.

Socket Mode never comes through here: it has no HTTP requests, and its WebSocket is opened
with the app-level token.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.slack import wire

# Slack's largest genuine bodies are interactions that carry someone's whole message (a message
# shortcut): up to 40,000 characters of text, repeated in its rich_text blocks, and percent-encoded
# at up to 9 bytes per character. 1 MiB holds that with room to spare, equals aiohttp's own
# default, and bounds what an unsigned flood can make us buffer.
MAX_BODY = 1024 * 1024
MAX_SKEW = 300  # seconds, as Slack documents: an older (or newer) signature is a replay

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Verifier:
    """Checks that Slack signed a body with our signing secret within MAX_SKEW of `clock()`."""

    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def problem(self, body: bytes, *, timestamp: str | None, signature: str | None) -> str | None:
        """Why the request is not Slack's (a short phrase safe to answer with), or None."""
        if not timestamp or not _TIMESTAMP.fullmatch(timestamp):
            return "missing or malformed X-Slack-Request-Timestamp"
        if abs(self._clock() - int(timestamp)) > MAX_SKEW:
            return "stale X-Slack-Request-Timestamp"
        # The format is public; checking it first keeps compare_digest on ASCII strings.
        if not signature or not _SIGNATURE.fullmatch(signature):
            return "missing or malformed X-Slack-Signature"
        expected = wire.signature(body, secret=self._secret, timestamp=timestamp)
        if not hmac.compare_digest(expected, signature):
            return "invalid X-Slack-Signature"
        return None


def verified_only(verifier: Verifier, *, path: str) -> Middleware:
    """aiohttp middleware: POST `path` must be at most MAX_BODY bytes (413) and signed by
    Slack (401); the body of a refused request is never read past the cap, parsed or logged."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != path:
            return await handler(request)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="request body too large")
        try:
            # The application's client_max_size is MAX_BODY: reading stops just past it, also
            # for chunked or compressed bodies whose length the headers do not tell.
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="request body too large")
        problem = verifier.problem(
            body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp"),
            signature=request.headers.get("X-Slack-Signature"),
        )
        if problem:
            return web.Response(status=401, text=problem)
        return await handler(request)

    return middleware
