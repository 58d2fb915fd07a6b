"""Composition root: the only place that reads the environment and starts servers.

python -m bot              run the bot: Socket Mode, HTTP mode, or (no Slack) the CDN check
python -m bot query "…"    run a task query from the terminal, as /cdn would
python -m bot emulator …   run only the CDN API emulator
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import SecretStr

from bot import console, logs, wording
from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient, RetryPolicy
from bot.cdn.credentials import Credentials, resolve_credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.chaos import FAULT_KINDS, FaultPlan
from bot.cdn.emulator.demo import keep_busy
from bot.cdn.source import failed_tasks, fetch_tasks
from bot.cdn.limiter import Priority, RateLimiter
from bot.checkup import Checkup
from bot.config import Settings, SlackMode, load_settings, slack_mode
from bot.core.plan import Answer
from bot.core.query import Help, TaskQuery, parse_query
from bot.core.tasks import ObjectType, Task, TaskListRequest
from bot.errors import (
    BotError,
    ConfigurationError,
    PermissionDenied,
    UpstreamError,
    UserInputError,
)
from bot.playground.guard import is_loopback
from bot.playground.server import Playground
from bot.slack.app import (
    SocketConnection,
    create_app,
    health_route,
    slack_client,
    web_application,
)
from bot.slack.notify import Notifier
from bot.slack.people import Directory
from bot.slack.replies import Services
from bot.store.database import Store
from bot.watcher import Watcher

log = logging.getLogger("bot")

DEMO_TASKS = 400
DEMO_EVERY = 20.0  # seconds between the embedded emulator's new demo tasks


@dataclass(frozen=True)
class Cdn:
    """The CDN side as the rest of the bot sees it."""

    reads: CachedReads
    emulated: bool
    fan_out: tuple[ObjectType, ...]

    async def find_tasks(
        self, query: TaskQuery, *, fresh: bool = False, caller: str = ""
    ) -> Answer:
        """Answer a task query now (the TaskFinder the Slack side uses)."""
        return await fetch_tasks(
            self.reads,
            query,
            now=datetime.now(UTC),
            fan_out=self.fan_out,
            fresh=fresh,
            caller=caller,
        )

    async def failed_tasks(self, start: datetime, end: datetime) -> list[Task]:
        """Failed tasks created in [start, end] (the watcher's FetchFailures)."""
        return await failed_tasks(self.reads, start=start, end=end)


@contextlib.asynccontextmanager
async def open_cdn(settings: Settings, *, demo_traffic: bool = False) -> AsyncIterator[Cdn]:
    """The configured account's CDN API, or an embedded emulator when there is none (with
    `demo_traffic`, one that keeps getting new tasks, some of them failing)."""
    secret, token = settings.alibaba_cloud_access_key_secret, settings.alibaba_cloud_security_token
    credentials = resolve_credentials(
        settings.alibaba_cloud_access_key_id,
        secret.get_secret_value() if secret else None,
        security_token=token.get_secret_value() if token else None,
        profile=settings.alibaba_cloud_profile,
        config_file=settings.alibaba_cloud_config_file,
    )
    endpoint = settings.cdn_endpoint
    emulator: Emulator | None = None
    if credentials is None:
        # Paths with /broken/ in them fail, so notifications can be tried out locally too.
        # Demo tasks finish in seconds, so a newcomer sees a refresh through within a minute.
        config = EmulatorConfig(seed=DEMO_TASKS, fail_pattern="/broken/", task_seconds=5)
        emulator = Emulator(config)
        endpoint = await emulator.start()
        credentials = Credentials(config.access_key_id, config.access_key_secret)
        log.warning(
            "*** No Alibaba Cloud credentials configured: using the built-in CDN emulator "
            "at %s (AccessKeyId %s) with %d demo tasks. Set ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET to use your account. ***",
            endpoint,
            config.access_key_id,
            DEMO_TASKS,
        )
    client = CdnClient(
        endpoint=endpoint,
        credentials=credentials,
        limiter=RateLimiter(rates={"DescribeRefreshTasks": settings.cdn_qps}),
        signature_version=settings.cdn_signature_version,
        connect_timeout=settings.cdn_connect_timeout,
        read_timeout=settings.cdn_read_timeout,
        retry=RetryPolicy(max_retries=settings.cdn_max_retries),
    )
    cache = ResponseCache(ttl=settings.cache_ttl, maxsize=settings.cache_size)
    busy: asyncio.Task[None] | None = None
    if emulator is not None and demo_traffic:
        busy = asyncio.create_task(
            keep_busy(emulator.ledger, clock=emulator.clock, every=DEMO_EVERY)
        )
        log.info("Demo: a new refresh task every %g s, every third one failing", DEMO_EVERY)
    try:
        yield Cdn(CachedReads(client, cache), emulator is not None, settings.cdn_fanout_types)
    finally:
        if busy is not None:
            busy.cancel()
        await client.aclose()
        if emulator is not None:
            await emulator.stop()


async def _check_cdn(cdn: Cdn) -> str:
    """What the CDN API says now, in words for the log; raises what a query would meet.

    Queries need only DescribeRefreshTasks, so that call decides; the quota is a bonus that a
    least-privilege RAM policy may not grant."""
    request = TaskListRequest(page_size=1)
    page = (
        await cdn.reads.describe_refresh_tasks(request, fresh=True, priority=Priority.BACKGROUND)
    ).value
    try:
        quota = (await cdn.reads.describe_refresh_quota(fresh=True)).value
    except PermissionDenied:
        left = "the refresh quota is not readable (only refresh and prefetch need it)"
    except UpstreamError as error:
        left = f"the refresh quota could not be read ({wording.describe(error)})"
    else:
        left = f"{quota.url_remain} of {quota.url_quota} URL refreshes left today"
    return f"CDN API reachable: {page.total_count} tasks in the last 3 days; {left}"


def _stop_signal() -> asyncio.Event:
    """Set on SIGTERM or SIGINT, so the bot can finish what it is doing and stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    return stop


async def _serve_http(app: web.Application, sock: socket.socket, *, stop: asyncio.Event) -> None:
    # Open requests (the playground's long polls) get a few seconds, not aiohttp's default 60.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=3)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket bound now, so the port (0 = any free one) is known before serving."""
    listener = socket.create_server((host, port), reuse_port=False)
    listener.setblocking(False)
    return listener


@dataclass
class Mode:
    """How the bot meets Slack: over HTTP, over Socket Mode, or through the local playground."""

    name: SlackMode | Literal["playground"]
    settings: Settings
    playground: Playground | None = None


async def _serve_slack(mode: Mode, cdn: Cdn, store: Store, sock: socket.socket) -> None:
    settings = mode.settings
    async with slack_client(settings) as client:
        notifier = Notifier(client)
        policy = settings.policy()
        # Whatever the start-up check finds, the bot serves: people get the worded error and
        # the same process answers once the API does.
        checkup = Checkup(lambda: _check_cdn(cdn), clock=lambda: datetime.now(UTC))
        find_tasks = checkup.observing(cdn.find_tasks, live=lambda answer: answer.live)
        services = Services(
            find_tasks=find_tasks,
            store=store,
            notifier=notifier,
            people=Directory(client),
            policy=policy,
        )
        watcher = Watcher(
            store=store,
            fetch_failures=checkup.observing(cdn.failed_tasks),
            post=notifier.post_failures,
            clock=lambda: datetime.now(UTC),
            interval=settings.watch_interval,
            overlap=timedelta(seconds=settings.watch_overlap),
            scopes=policy.scopes,
        )
        stop = _stop_signal()
        checking = asyncio.create_task(checkup.run(stop))
        watching = asyncio.create_task(watcher.run(stop))
        cloud = "emulator" if cdn.emulated else "alibaba"
        socket_mode = mode.name == "socket"
        app = create_app(settings, services, client=client, socket_mode=socket_mode)
        connection: SocketConnection | None = None

        async def health() -> dict[str, object]:
            # Liveness: an unhappy CDN API is reported, never a reason to restart the bot.
            report: dict[str, object] = {"ok": not watching.done(), "mode": mode.name, "cdn": cloud}
            report["cdn_api"] = checkup.status.report()
            if connection is not None:
                report["connected"] = connected = await connection.connected()
                report["ok"] = report["ok"] and connected
            return report

        async def readiness() -> dict[str, object]:
            # Ready once the CDN API answered: a router may hold traffic back until then.
            return {"ok": checkup.answered, "cdn_api": checkup.status.report()}

        try:
            if socket_mode:
                assert settings.slack_app_token is not None
                connection = SocketConnection(app, settings.slack_app_token.get_secret_value())
                await connection.open()
                log.info("Slack Socket Mode connected")
                http = web.Application()
                http.router.add_get("/healthz", health_route(health))
            else:
                http = web_application(app, health)
            http.router.add_get("/readyz", health_route(readiness))
            if mode.playground is not None:
                mode.playground.mount(http)
            host, port = sock.getsockname()[:2]
            what = {"http": "Slack HTTP mode", "socket": "Health check"}.get(mode.name)
            if what:
                log.info("%s listening on http://%s:%d", what, host, port)
            else:
                assert mode.playground is not None
                reach = "anyone who can reach it" if mode.playground.public else "this machine only"
                log.info("Local playground (not Slack, %s): %s/", reach, mode.playground.base_url)
                print(f"Open {mode.playground.base_url}/ to try the bot", flush=True)
            await _serve_http(http, sock, stop=stop)
        finally:
            stop.set()
            if connection is not None:
                await connection.close()
            # The cycle under way finishes, so every post Slack accepted is recorded.
            try:
                await asyncio.wait_for(watching, timeout=settings.watch_interval + 30)
            except TimeoutError:
                log.warning("the watcher did not finish its cycle in time")
            checking.cancel()
            log.info("stopped")


def _playground_host(settings: Settings) -> str:
    """Where the playground may listen: this machine, unless the operator asked for more."""
    host = settings.playground_host
    if is_loopback(host):
        return host
    if not settings.playground_public:
        raise ConfigurationError(
            "PLAYGROUND_HOST",
            f"is {host!r}, which other machines can reach, and the playground has no sign-in: "
            "use 127.0.0.1, or set PLAYGROUND_PUBLIC=true to serve it there anyway",
        )
    log.warning(
        "*** PLAYGROUND_PUBLIC=true: the playground on %s answers ANYONE who can reach that "
        "address, with no sign-in, and runs their /cdn commands with this bot's CDN account. ***",
        host,
    )
    return host


def _playground_mode(settings: Settings, sock: socket.socket) -> Mode:
    """No Slack configured: the bot talks to a local page that plays Slack's part."""
    host, port = sock.getsockname()[:2]
    base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    # Both fresh each run: nothing another program learned before lets it in now.
    secret, token = secrets.token_hex(16), f"xoxb-playground-{secrets.token_hex(16)}"
    played = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(token),
            "slack_signing_secret": SecretStr(secret),
            "slack_api_url": f"{base_url}/api/",
        }
    )
    public = not is_loopback(host)
    playground = Playground(
        base_url=base_url, signing_secret=secret, bot_token=token, public=public
    )
    return Mode("playground", played, playground)


async def _run_bot(settings: Settings) -> None:
    slack = slack_mode(settings)  # a half-configured Slack fails before anything starts
    host = settings.host if slack else _playground_host(settings)
    sock = _listen(host, settings.port)
    mode = Mode(slack, settings) if slack else _playground_mode(settings, sock)
    store = Store(settings.database_url)  # created on first run, migrated on every start
    try:
        async with open_cdn(settings, demo_traffic=True) as cdn:
            await _serve_slack(mode, cdn, store, sock)
    finally:
        store.close()
        sock.close()


async def _run_query(settings: Settings, text: str, *, as_json: bool) -> int:
    tz = datetime.now().astimezone().tzinfo or UTC
    command = parse_query(text, now=datetime.now(UTC), tz=tz)
    if isinstance(command, Help):
        if command.unknown:
            print(f"error: `{command.unknown}` is not a filter or command\n", file=sys.stderr)
        print(console.USAGE, file=sys.stderr if command.unknown else sys.stdout)
        return 2 if command.unknown else 0
    if not isinstance(command, TaskQuery):
        print(
            "error: subscriptions live in Slack channels; use /cdn there. "
            "This command runs task queries.",
            file=sys.stderr,
        )
        return 2
    async with open_cdn(settings) as cdn:
        answer = await cdn.find_tasks(command)
    print(console.as_json(answer) if as_json else console.table(answer, tz))
    return 0


async def _serve_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    emulator = Emulator(config)
    url = await emulator.start(host, port)
    print(f"CDN API emulator listening on {url} (AccessKeyId {config.access_key_id})", flush=True)
    try:
        await _stop_signal().wait()
    finally:
        await emulator.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="cdn-task-bot")
    commands = parser.add_subparsers(dest="command")
    query = commands.add_parser("query", help="run a /cdn task query from the terminal")
    query.add_argument(
        "filters", nargs="*", help='filters as after /cdn, e.g. "status:failed since:2h"'
    )
    query.add_argument("--json", action="store_true", help="print JSON instead of a table")
    emulator = commands.add_parser("emulator", help="serve the local CDN API emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8900, help="0 picks a free port")
    emulator.add_argument("--access-key-id", default=EmulatorConfig.access_key_id)
    emulator.add_argument("--access-key-secret", default=EmulatorConfig.access_key_secret)
    emulator.add_argument("--security-token", help="make the key an STS key needing this token")
    emulator.add_argument(
        "--qps", type=float, default=10.0, help="DescribeRefreshTasks calls/s; 0 turns limits off"
    )
    emulator.add_argument(
        "--task-seconds", type=float, default=30.0, help="how long a new task takes to finish"
    )
    emulator.add_argument("--fail-pattern", help="regex: tasks whose ObjectPath matches end Failed")
    emulator.add_argument("--seed", type=int, default=0, help="preload N demo tasks")
    emulator.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests that meet a fault (0-1)"
    )
    emulator.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated, from {','.join(FAULT_KINDS)}",
    )
    emulator.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    emulator.add_argument(
        "--stall-seconds", type=float, default=15.0, help="how long a timeout fault stalls"
    )
    emulator.add_argument("--fault-seed", type=int, default=0, help="repeatable fault sequence")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen mode; the exit status says how it went."""
    args = _parser().parse_args(argv)
    # One line per record: text from Slack or the API cannot forge a log or audit line.
    logs.configure(logging.INFO)
    # One line per HTTP request is noise at INFO; failures surface as bot.errors anyway.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "query":
            return asyncio.run(
                _run_query(load_settings(), " ".join(args.filters), as_json=args.json)
            )
        if args.command == "emulator":
            config = EmulatorConfig(
                access_key_id=args.access_key_id,
                access_key_secret=args.access_key_secret,
                security_token=args.security_token,
                qps=args.qps,
                task_seconds=args.task_seconds,
                fail_pattern=args.fail_pattern,
                seed=args.seed,
                faults=FaultPlan(
                    rate=args.fault_rate,
                    kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
                    latency_ms=args.latency_ms,
                    stall_seconds=args.stall_seconds,
                    seed=args.fault_seed,
                ),
            )
            asyncio.run(_serve_emulator(config, args.host, args.port))
        else:
            settings = load_settings()
            logging.getLogger().setLevel(settings.log_level.upper())
            asyncio.run(_run_bot(settings))
    except KeyboardInterrupt:
        return 0
    except UserInputError as error:  # the filters must change: a too-deep page, a typo
        print(f"error: {wording.describe(error)}", file=sys.stderr)
        return 2
    except BotError as error:
        print(f"error: {wording.describe(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
