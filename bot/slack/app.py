"""The Bolt app: listeners registered explicitly, one error handler, and the HTTP surface."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from cachetools import TTLCache
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack import actions, commands, home, shortcuts, steps, writes
from bot.slack.forms import register as register_form
from bot.slack.hooks import GuardedRespond, ReplyHosts, reply_hosts
from bot.slack.payloads import Malformed, check_body
from bot.slack.replies import Services, report_error
from bot.slack.verify import MAX_BODY, Verifier, verified_only

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


class SlackApp(AsyncApp):
    """The Bolt app, plus what its HTTP surface checks before Bolt sees a request."""

    def __init__(self, *, signing_secret: str | None, **options: Any) -> None:
        super().__init__(signing_secret=signing_secret, **options)
        self._secret = signing_secret

    def verifier(self, *, clock: Callable[[], float] = time.time) -> Verifier:
        """The signature check for requests over HTTP, timed by `clock`."""
        if not self._secret:
            raise ValueError("HTTP mode needs the signing secret")
        return Verifier(self._secret, clock=clock)


def create_app(
    settings: Settings,
    services: Services,
    *,
    client: AsyncWebClient | None = None,
    socket_mode: bool = False,
    reply_origins: Iterable[str] = (),
) -> SlackApp:
    """The Bolt app for the configured workspace. Replies go only to Slack's response_url
    hosts, the origin of a stand-in SLACK_API_URL, and `reply_origins`."""
    client = client or web_client(settings)
    secret = settings.slack_signing_secret
    app = SlackApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        # Socket Mode connections are authenticated by the app token instead of signatures.
        # Over HTTP our middleware checks first and is the one that answers; Bolt's own check
        # stays on so the app is never served unchecked through some other adapter.
        request_verification_enabled=not socket_mode,
        raise_error_for_unhandled_request=False,
    )
    _quiet(logging.getLogger("slack_bolt.AsyncRequestVerification"))
    app.use(_replies_only_to(reply_hosts(settings.slack_api_url, extra=reply_origins)))
    seen: TTLCache[str, bool] = TTLCache(maxsize=EVENTS_REMEMBERED, ttl=EVENT_MEMORY)
    app.use(_once_per_event(seen, services))
    app.error(report_error)
    commands.register(app, services=services)
    actions.register(app, services=services)
    writes.register(app, services=services)
    register_form(app, services=services)
    home.register(app, services=services)
    shortcuts.register(app, services=services)
    steps.register(app, services=services)
    return app


# Slack retries an event it did not see acknowledged in time (X-Slack-Retry-Num), for up to
# about an hour, with the same event_id.
EVENT_MEMORY = 3600.0
EVENTS_REMEMBERED = 10_000


def _once_per_event(
    seen: TTLCache[str, bool], services: Services
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: an Events API delivery whose event_id was handled already (Slack's
    retry of one whose acknowledgement it missed), here or on another replica (the store
    says), is acknowledged and dropped."""

    async def once(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            now = services.clock()
            forget = now - timedelta(seconds=EVENT_MEMORY)
            if event_id in seen or not await services.store.claim_delivery(
                f"event:{event_id}", at=now, forget_before=forget
            ):
                log.info("dropped a repeated delivery of event %s", event_id)
                return BoltResponse(status=200, body="")
            seen[event_id] = True
        return await next()

    return once


def _replies_only_to(hosts: ReplyHosts) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt middleware: listeners and the error handler get a `respond` that posts only to
    `hosts`, without following redirects."""

    async def guard(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        respond = context.respond
        if respond is not None:
            context["respond"] = GuardedRespond.of(respond, hosts)
        return await next()

    return guard


class _Drop(logging.Filter):
    """Drops every record: Bolt logs a refused request's whole body at INFO."""

    def filter(self, _record: logging.LogRecord) -> bool:
        return False


def _quiet(logger: logging.Logger) -> None:
    # A filter, not a level: Bolt resets its loggers' levels whenever it builds an app.
    if not any(isinstance(f, _Drop) for f in logger.filters):
        logger.addFilter(_Drop())


Health = Callable[[], Awaitable[dict[str, Any]]]


def health_route(health: Health) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /healthz: the report as JSON, 503 when it is not ok. It never holds secrets."""

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    return healthz


@web.middleware
async def _well_formed_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refuse a signed body Bolt cannot read with a 400; aiohttp keeps the bytes for Bolt."""
    if request.method != "POST" or request.path != EVENTS_PATH:
        return await handler(request)
    if len(request.headers.getall("Content-Type", ())) > 1:
        return web.Response(status=400, text="more than one Content-Type")
    content_type = request.headers.get("Content-Type", "").split(";")[0] or None
    try:
        # Decoded as Bolt's adapter will decode it, so both read the same text.
        text = (await request.read()).decode(request.charset or "utf-8")
        check_body(text, content_type=content_type)
    except (UnicodeDecodeError, LookupError):
        return web.Response(status=400, text="the request body is not text in its charset")
    except Malformed as problem:
        return web.Response(status=400, text=f"malformed Slack request: {problem}")
    try:
        return await handler(request)
    except (TypeError, LookupError, AttributeError, ValueError) as exc:
        # What the checks above do not foresee: Bolt reads fields before any listener runs
        # (listener errors never get here). A signed body it cannot read is refused, not a 500.
        log.warning("refused a request Bolt could not read: %s", type(exc).__name__)
        return web.Response(status=400, text="malformed Slack request")


def web_application(
    app: SlackApp, health: Health, *, clock: Callable[[], float] = time.time
) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events, a health check at GET /healthz.

    A request to /slack/events is refused unless it is at most MAX_BODY bytes (413), signed
    by Slack within five minutes of `clock()` (401), and readable by Bolt (400), in that order.
    """
    verifier = app.verifier(clock=clock)
    application = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[verified_only(verifier, path=EVENTS_PATH), _well_formed_only],
    )

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    application.router.add_post(EVENTS_PATH, events)
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
