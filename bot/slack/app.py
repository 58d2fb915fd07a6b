"""The Bolt app: listeners registered explicitly, one error handler, and the HTTP surface."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack import actions, commands
from bot.slack.replies import Services, report_error

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def web_client(
    settings: Settings, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client at SLACK_API_URL; HTTP 429s wait for Retry-After and try again.

    Pass a shared `session` where many calls are made: without one, every call opens (and
    closes) a connection of its own.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, session=session)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


SlackClient = AsyncWebClient


@contextlib.asynccontextmanager
async def slack_client(settings: Settings) -> AsyncIterator[SlackClient]:
    """A Web API client with one connection pool for the life of the process."""
    async with aiohttp.ClientSession() as session:
        yield web_client(settings, session=session)


def create_app(
    settings: Settings,
    services: Services,
    *,
    client: AsyncWebClient | None = None,
    socket_mode: bool = False,
) -> AsyncApp:
    """The Bolt app for the configured workspace."""
    client = client or web_client(settings)
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        # Socket Mode connections are authenticated by the app token instead of signatures.
        request_verification_enabled=not socket_mode,
        raise_error_for_unhandled_request=False,
    )
    app.error(report_error)
    commands.register(app, services=services)
    actions.register(app, services=services)
    return app


Health = Callable[[], Awaitable[dict[str, Any]]]


def health_route(health: Health) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /healthz: the report as JSON, 503 when it is not ok. It never holds secrets."""

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    return healthz


def _malformed(body: bytes) -> str | None:
    """What is wrong with a request body Bolt's adapter would fail on (with a 500), if anything."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    if text.lstrip().startswith("{"):
        return None  # a JSON body (the Events API): Bolt reads those itself
    payloads = parse_qs(text).get("payload")
    if payloads:
        try:
            if not isinstance(json.loads(payloads[0]), dict):
                return "payload is not a JSON object"
        except ValueError:
            return "payload is not JSON"
    return None


@web.middleware
async def _well_formed_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refuse a body Bolt cannot parse with a 400; aiohttp keeps the bytes for the handler."""
    if request.method != "POST" or request.path != EVENTS_PATH:
        return await handler(request)
    problem = _malformed(await request.read())
    if problem:
        return web.Response(status=400, text=problem)
    try:
        return await handler(request)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        # Bolt reads fields before any listener runs (listener errors never get here): a
        # signed body whose fields have impossible types is refused, not a server error.
        log.warning("refused a request Bolt could not read: %s: %s", type(exc).__name__, exc)
        return web.Response(status=400, text="malformed Slack request")


def web_application(app: AsyncApp, health: Health) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events, a health check at GET /healthz."""
    application = app.web_app(path=EVENTS_PATH)
    application.middlewares.append(_well_formed_only)
    application.router.add_get("/healthz", health_route(health))
    return application


class SocketConnection:
    """Socket Mode: one WebSocket to Slack, opened with the app-level token."""

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        self._handler = AsyncSocketModeHandler(app, app_token)

    async def open(self) -> None:
        """Ask Slack for a WebSocket URL and connect; events flow from then on."""
        await self._handler.connect_async()  # type: ignore[no-untyped-call]

    async def connected(self) -> bool:
        """Whether the WebSocket is up right now."""
        return bool(await self._handler.client.is_connected())

    async def close(self) -> None:
        """Disconnect."""
        await self._handler.close_async()  # type: ignore[no-untyped-call]
