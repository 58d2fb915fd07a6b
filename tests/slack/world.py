"""The bot's world as one async context manager: the emulator, the stand-in Slack, the task
source, the store, the services and the HTTP app on 127.0.0.1:0.

The `running_bot` fixture and the threaded harness of the fuzz tests both enter it. Leaving it
waits for the work the bot started (the listeners Bolt runs as tasks after the ack) and for
nothing else: idle keep-alive connections are closed, not waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from bot.cdn.emulator import Emulator
from bot.cdn.emulator.demo import seed_history
from bot.cdn.writes import Writer
from bot.config import Settings
from bot.core.access import Policy
from bot.leader import Leadership
from bot.slack.admission import Admission
from bot.slack.app import create_app, slack_client, web_application
from bot.slack.hooks import reply_hosts
from bot.slack.notify import Notifier
from bot.slack.people import Directory
from bot.slack.progress import Tracker
from bot.slack.replies import Services
from bot.slack.uploads import Files
from bot.store.database import Store
from tests.conftest import Clock, emulator_config, make_client, make_source
from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, signed_headers

HISTORY = 120  # demo tasks the emulator holds when the bot starts
# Past Admission's deadline, every command has been answered or cancelled.
WORK_TIMEOUT = Admission().deadline + 5
# For a request still open when the world closes (none should be).
SHUTDOWN_TIMEOUT = 1.0


def slack_settings(slack: FakeSlack, **extra: Any) -> Settings:
    """Settings for a bot that talks to `slack` over HTTP."""
    values = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        **extra,
    }
    return Settings(**values)


@dataclass
class RunningBot:
    """The bot at `url`, the stand-in Slack it talks to, and its store."""

    url: str
    slack: FakeSlack
    http: httpx.AsyncClient
    store: Store
    emulator: Emulator
    clock: Clock
    tracker: Tracker  # follows submissions; tests drive its cycles
    leadership: Leadership | None = None  # given a holder: this replica's view of the lease

    async def post(self, body: bytes, **header_options: Any) -> httpx.Response:
        """Send `body` to /slack/events, signed as Slack would (`header_options` spoil it)."""
        return await self.http.post(
            f"{self.url}/slack/events", content=body, headers=signed_headers(body, **header_options)
        )


_HANDLING: contextvars.ContextVar[StartedWork | None] = contextvars.ContextVar(
    "handling", default=None
)


class StartedWork:
    """The tasks started while the bot's app handled a request, and the tasks those started:
    Bolt's listeners, and everything they wait for. Idle connections are not among them."""

    def __init__(self) -> None:
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Marks what `handler` starts as this world's work."""
        token = _HANDLING.set(self)
        try:
            return await handler(request)
        finally:
            _HANDLING.reset(token)

    @contextlib.contextmanager
    def recording(self) -> Generator[None, None, None]:
        """Note every task of this world's work the running loop creates meanwhile."""
        loop = asyncio.get_running_loop()
        previous = loop.get_task_factory()

        def factory(
            loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **options: Any
        ) -> asyncio.Future[Any]:
            if previous is not None:
                task = previous(loop, coro, **options)
            else:
                task = asyncio.Task(coro, loop=loop, **options)
            context = options.get("context")
            owner = context.get(_HANDLING) if context is not None else _HANDLING.get()
            if owner is self and isinstance(task, asyncio.Task):
                self._tasks.add(task)
            return task

        loop.set_task_factory(factory)
        try:
            yield
        finally:
            loop.set_task_factory(previous)

    async def finished(self, *, timeout: float) -> None:
        """Wait for the work still running; work that outlives `timeout` is cancelled, and
        fails the test."""
        late: set[asyncio.Task[Any]] = set()
        while pending := {task for task in self._tasks if not task.done()} - late:
            # Work that finishes may have started more: look again until none is left.
            _, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            late |= still
        if late:
            await asyncio.wait(late)
            raise AssertionError(f"the bot's work outlived {timeout} s: {sorted(map(str, late))}")


@contextlib.asynccontextmanager
async def running_bot(
    database: Path | str,
    *,
    clock: Clock | None = None,
    emulator: Emulator | None = None,
    slack: FakeSlack | None = None,
    policy: Policy | None = None,
    admission: Admission | None = None,
    holder: str | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot serving HTTP on 127.0.0.1:0 with its store at `database` (a file path or a
    URL). What is not given (a clock, the emulator, the stand-in Slack) is made and stopped
    here. With a `holder`, it is one of several replicas: it takes the background lease if
    it is free, and follows progress only while it holds it."""
    clock = clock or Clock(datetime.now(UTC).replace(microsecond=0))
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    async with contextlib.AsyncExitStack() as stack:
        if emulator is None:
            emulator = Emulator(emulator_config(clock))
            await emulator.start()
            stack.push_async_callback(emulator.stop)
        if slack is None:
            slack = FakeSlack()
            await slack.start()
            stack.push_async_callback(slack.stop)
        seed_history(emulator.ledger, HISTORY, now=clock())
        settings = slack_settings(slack)
        cdn = await stack.enter_async_context(make_client(emulator, clock))
        client = await stack.enter_async_context(slack_client(settings))
        store = await Store.open(url)
        stack.push_async_callback(store.close)
        leadership = None
        if holder is not None:
            leadership = Leadership(store, holder=holder, lease=60)
            await leadership.renew()
        tracker = Tracker(
            lookup=Writer(cdn),
            store=store,
            client=client,
            hosts=reply_hosts(settings.slack_api_url),
            clock=clock,
            leadership=leadership,
        )
        services = Services(
            find_tasks=make_source(cdn, clock, ttl=60).find,
            store=store,
            notifier=Notifier(client),
            people=Directory(client),
            clock=clock,
            policy=policy or Policy(),
            # No "Looking up …" notes unless a test asks: most count the replies they get.
            admission=admission or Admission(feedback_after=None),
            writer=Writer(cdn),
            tracker=tracker,
            files=Files(client),
        )
        app = create_app(settings, services, client=client)

        async def health() -> dict[str, object]:
            return {"ok": True, "mode": "http", "cdn": "emulator"}

        work = StartedWork()
        application = web_application(app, health)
        application.middlewares.append(work.middleware)
        runner = web.AppRunner(application, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        stack.enter_context(work.recording())
        await runner.setup()
        stack.push_async_callback(_stop, runner, work)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield RunningBot(url, slack, http, store, emulator, clock, tracker, leadership)


async def _stop(runner: web.AppRunner, work: StartedWork) -> None:
    # No new requests, idle keep-alive connections closed; then the work requests started.
    await runner.cleanup()
    await work.finished(timeout=WORK_TIMEOUT)
