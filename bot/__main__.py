"""Composition root: the only place that reads the environment and starts servers.

python -m bot              run the bot on the configured (or embedded) defaults
python -m bot emulator …   run only the CDN API emulator
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from bot import console, wording
from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient, RetryPolicy
from bot.cdn.credentials import Credentials, resolve_credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.fetch import fetch_tasks
from bot.cdn.limiter import RateLimiter
from bot.config import Settings, load_settings
from bot.core.query import Help, TaskQuery, parse_query
from bot.core.tasks import TaskListRequest
from bot.errors import BotError, InvalidQuery

log = logging.getLogger("bot")

DEMO_TASKS = 400


@contextlib.asynccontextmanager
async def open_cdn(settings: Settings) -> AsyncIterator[CachedReads]:
    """The cached CDN reads for the configured account, or for an embedded emulator."""
    credentials = resolve_credentials(settings)
    endpoint = settings.cdn_endpoint
    emulator: Emulator | None = None
    if credentials is None:
        config = EmulatorConfig(seed=DEMO_TASKS)
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
    limiter = RateLimiter(rates={"DescribeRefreshTasks": settings.cdn_qps})
    client = CdnClient(
        endpoint=endpoint,
        credentials=credentials,
        limiter=limiter,
        signature_version=settings.cdn_signature_version,
        connect_timeout=settings.cdn_connect_timeout,
        read_timeout=settings.cdn_read_timeout,
        retry=RetryPolicy(max_retries=settings.cdn_max_retries),
    )
    try:
        yield CachedReads(
            client, ResponseCache(ttl=settings.cache_ttl, maxsize=settings.cache_size)
        )
    finally:
        await client.aclose()
        if emulator is not None:
            await emulator.stop()


async def _run_bot(settings: Settings) -> None:
    async with open_cdn(settings) as cdn:
        quota = (await cdn.describe_refresh_quota()).value
        page = (await cdn.describe_refresh_tasks(TaskListRequest(page_size=1))).value
        log.info(
            "CDN API reachable: %d tasks in the last 3 days; %d of %d URL refreshes left today",
            page.total_count,
            quota.url_remain,
            quota.url_quota,
        )
        log.info("No Slack listeners in this version yet; serving the CDN layer until stopped")
        await asyncio.Event().wait()


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
        answer = await fetch_tasks(cdn, command, now=datetime.now(UTC), fan_out=settings.fan_out)
    print(console.as_json(answer) if as_json else console.table(answer, tz))
    return 0


async def _serve_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    emulator = Emulator(config)
    url = await emulator.start(host, port)
    print(f"CDN API emulator listening on {url} (AccessKeyId {config.access_key_id})", flush=True)
    try:
        await asyncio.Event().wait()
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen mode; the exit status says how it went."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
            )
            asyncio.run(_serve_emulator(config, args.host, args.port))
        else:
            settings = load_settings()
            logging.getLogger().setLevel(settings.log_level.upper())
            asyncio.run(_run_bot(settings))
    except KeyboardInterrupt:
        return 0
    except InvalidQuery as error:
        print(f"error: {wording.describe(error)}", file=sys.stderr)
        return 2
    except BotError as error:
        print(f"error: {wording.describe(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
