"""Composition root: the only place that reads the environment and starts servers.

python -m bot              run the bot: Socket Mode, HTTP mode, or (no Slack) the CDN check
python -m bot query "…"    run a task query from the terminal, as /cdn would
python -m bot refresh URL… / prefetch URL…   submit from the terminal and follow the tasks
python -m bot emulator …   run only the CDN API emulator
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import secrets
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import SecretStr

from bot import console, logs, wording
from bot.archiver import Archiver
from bot.cdn.emulator import Emulator, EmulatorConfig, cli
from bot.cdn.source import Clock, TaskSource, open_task_source
from bot.checkup import Checkup, probe
from bot.config import Settings, SlackMode, load_settings, slack_mode
from bot.core.submission import AREAS, KIND_WORDS, Action
from bot.errors import BotError, ConfigurationError, UserInputError
from bot.leader import Leadership
from bot.playground.guard import is_loopback
from bot.playground.server import Playground
from bot.recall import Recall
from bot.slack.app import (
    SlackClient,
    SocketConnection,
    create_app,
    health_route,
    slack_client,
    web_application,
)
from bot.slack.hooks import reply_hosts
from bot.slack.notify import Notifier
from bot.slack.people import Directory
from bot.slack.progress import Tracker
from bot.slack.replies import Services
from bot.slack.uploads import Files
from bot.store.database import Store
from bot.stuck import StuckAlerts
from bot.watcher import Watcher

log = logging.getLogger("bot")


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


async def _serve_slack(mode: Mode, source: TaskSource, store: Store, sock: socket.socket) -> None:
    settings, clock = mode.settings, source.clock
    async with slack_client(settings) as client:
        notifier = Notifier(client)
        policy = settings.policy()
        # Whatever the start-up check finds, the bot serves: people get the worded error and
        # the same process answers once the API does.
        checkup = Checkup(lambda: probe(source), clock=clock)
        # Past the API's three days, queries are answered from the bot's own history.
        recall = Recall(source.find, store, clock=clock, kept_days=settings.history_days)
        find_tasks = checkup.observing(recall.find, live=lambda answer: answer.live)
        # One replica at a time watches and follows progress; alone, this one at once.
        leadership = Leadership(store, lease=settings.leader_lease)
        tracker = _tracker(source, store, client, settings=settings, leadership=leadership)
        services = Services(
            find_tasks=find_tasks,
            store=store,
            notifier=notifier,
            people=Directory(client),
            clock=clock,
            policy=policy,
            writer=source.writer,
            tracker=tracker,
            kept_days=settings.history_days,
            files=Files(client),
        )
        watcher = Watcher(
            store=store,
            fetch_failures=checkup.observing(source.failed),
            post=notifier.post_failures,
            clock=clock,
            interval=settings.watch_interval,
            overlap=timedelta(seconds=settings.watch_overlap),
            scopes=policy.scopes,
            leadership=leadership,
            # Stuck tasks come from the archiver's history: no API call of their own.
            stuck=StuckAlerts(
                after=timedelta(seconds=settings.stuck_after),
                post=notifier.post_stuck,
                post_ended=notifier.post_ended,
                keep=timedelta(days=settings.history_days),
            ),
        )
        archiver = Archiver(
            store=store,
            reads=source.reads,
            clock=clock,
            keep_days=settings.history_days,
            types=settings.cdn_fanout_types,
            leadership=leadership,
        )
        stop = _stop_signal()
        # The lease is kept until the background work has finished its cycle, then handed back.
        background_done = asyncio.Event()
        leading = asyncio.create_task(leadership.run(background_done))
        checking = asyncio.create_task(checkup.run(stop))
        watching = asyncio.create_task(watcher.run(stop))
        archiving = asyncio.create_task(archiver.run(stop))
        following = asyncio.create_task(tracker.run(stop)) if tracker is not None else None
        cloud = "emulator" if source.emulated else "alibaba"
        socket_mode = mode.name == "socket"
        app = create_app(settings, services, client=client, socket_mode=socket_mode)
        connection: SocketConnection | None = None

        async def health() -> dict[str, object]:
            # Liveness: an unhappy CDN API, Redis or database is reported, never a reason to
            # restart the bot (a restart cannot fix them, and commands still get worded answers).
            report: dict[str, object] = {"ok": not watching.done(), "mode": mode.name, "cdn": cloud}
            report["cdn_api"] = checkup.status.report()
            report.update(source.status())
            report["database"] = await _database_state(store)
            report["leader"] = leadership.leading
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
            # The archiver stops before its next call: every page it read is kept already.
            try:
                await asyncio.wait_for(archiving, timeout=30)
            except TimeoutError:
                log.warning("the archiver did not stop in time")
            if following is not None:
                # Likewise the progress cycle under way, so the store holds what Slack shows.
                try:
                    await asyncio.wait_for(following, timeout=30)
                except TimeoutError:
                    log.warning("the progress tracker did not finish its cycle in time")
            background_done.set()
            await leading  # hands the lease back, so a standby takes over at once
            checking.cancel()
            log.info("stopped")


async def _database_state(store: Store) -> dict[str, str]:
    """For /healthz: which engine, and whether it answers now."""
    try:
        await asyncio.wait_for(store.ping(), timeout=2)
    except Exception as error:
        return {"engine": store.dialect, "state": "unreachable", "problem": type(error).__name__}
    return {"engine": store.dialect, "state": "ok"}


def _tracker(
    source: TaskSource,
    store: Store,
    client: SlackClient,
    *,
    settings: Settings,
    leadership: Leadership,
) -> Tracker | None:
    """What follows submissions to the end, when the bot can submit at all."""
    if source.writer is None:
        return None
    hosts = reply_hosts(settings.slack_api_url)
    return Tracker(
        lookup=source.writer,
        store=store,
        client=client,
        hosts=hosts,
        clock=source.clock,
        leadership=leadership,
    )


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


async def _run_bot(settings: Settings, *, clock: Clock) -> None:
    slack = slack_mode(settings)  # a half-configured Slack fails before anything starts
    host = settings.host if slack else _playground_host(settings)
    sock = _listen(host, settings.port)
    mode = Mode(slack, settings) if slack else _playground_mode(settings, sock)
    store = await Store.open(settings.database_url)  # created on first run, migrated on start
    if settings.redis_url is not None and store.dialect == "sqlite":
        log.info(
            "REDIS_URL is set and the store is SQLite: replicas must all run on this machine "
            "(a SQLite file cannot be shared between machines; use DATABASE_URL=postgresql://…)"
        )
    try:
        async with open_task_source(settings, clock=clock, demo_traffic=True) as source:
            await _serve_slack(mode, source, store, sock)
    finally:
        await store.close()
        sock.close()


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
    for action, what in (("refresh", "refresh (purge) cached URLs"), ("prefetch", "prefetch URLs")):
        write = commands.add_parser(action, help=f"{what}, then follow the tasks to the end")
        write.add_argument(
            "paths", nargs="+", metavar="URL", help="URLs; `-` reads them from stdin"
        )
        if action == "refresh":
            write.add_argument("--type", choices=list(KIND_WORDS), help="what the paths name")
            write.add_argument("--force", action="store_true", help="re-fetch even if unchanged")
        else:
            write.add_argument("--area", choices=AREAS, help="where to prefetch")
        write.add_argument("--yes", action="store_true", help="submit without asking")
        write.add_argument(
            "--interval", type=float, default=10.0, help="seconds between progress checks"
        )
    emulator = commands.add_parser("emulator", help="serve the local CDN API emulator")
    cli.add_arguments(emulator)
    return parser


def _run_write(args: argparse.Namespace, *, clock: Clock) -> int:
    """`python -m bot refresh|prefetch`: the paths (`-` reads stdin, one a line), then submit."""
    piped = "-" in args.paths  # stdin then holds URLs and cannot answer "Submit?"
    paths = [line.strip() for p in args.paths for line in (sys.stdin if p == "-" else [p])]
    options = {"kind": getattr(args, "type", None), "area": getattr(args, "area", None)}
    text = console.submission_text(paths, force=getattr(args, "force", False), **options)
    ask = input if sys.stdin.isatty() and not piped else None
    action, settings = Action(args.command), load_settings()
    return asyncio.run(
        console.run_write(
            settings, action, text, clock=clock, ask=ask, yes=args.yes, interval=args.interval
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen mode; the exit status says how it went."""
    args = _parser().parse_args(argv)
    # One line per record: text from Slack or the API cannot forge a log or audit line.
    logs.configure(logging.INFO)
    # One line per HTTP request is noise at INFO; failures surface as bot.errors anyway.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic announces its context on every start; a migration it runs is still logged by us.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The bot's one clock: parsing, planning, the watcher and the checkup all read it.
    clock: Clock = functools.partial(datetime.now, UTC)
    try:
        if args.command == "query":
            text, settings = " ".join(args.filters), load_settings()
            return asyncio.run(console.run_query(settings, text, clock=clock, print_json=args.json))
        if args.command in ("refresh", "prefetch"):
            return _run_write(args, clock=clock)
        if args.command == "emulator":
            asyncio.run(_serve_emulator(cli.config_from(args), args.host, args.port))
        else:
            settings = load_settings()
            logging.getLogger().setLevel(settings.log_level.upper())
            asyncio.run(_run_bot(settings, clock=clock))
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
