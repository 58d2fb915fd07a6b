"""Composition root: the only place that reads the environment and starts servers.

python -m bot              run the bot on the configured (or embedded) defaults
python -m bot emulator …   run only the CDN API emulator
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.cdn.emulator import Emulator, EmulatorConfig

log = logging.getLogger("bot")

DEMO_TASKS = 400


def _emulator_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("emulator", help="serve the local CDN API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--access-key-id", default=EmulatorConfig.access_key_id)
    parser.add_argument("--access-key-secret", default=EmulatorConfig.access_key_secret)
    parser.add_argument(
        "--security-token", default=None, help="make the key an STS key needing this token"
    )
    parser.add_argument(
        "--qps", type=float, default=10.0, help="DescribeRefreshTasks calls/s; 0 = no limits"
    )
    parser.add_argument(
        "--task-seconds", type=float, default=30.0, help="how long a new task takes to finish"
    )
    parser.add_argument(
        "--fail-pattern", default=None, help="regex: tasks whose ObjectPath matches end Failed"
    )
    parser.add_argument("--seed", type=int, default=0, help="preload N demo tasks")


async def _serve_emulator(config: EmulatorConfig, host: str, port: int) -> None:
    emulator = Emulator(config)
    url = await emulator.start(host, port)
    log.info("CDN API emulator listening on %s (AccessKeyId %s)", url, config.access_key_id)
    print(f"CDN API emulator listening on {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen mode."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    _emulator_parser(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

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
        host, port = args.host, args.port
    else:
        # Until the Slack app lands, the bot's run mode is its embedded default: the emulator.
        log.warning("No Slack app yet: serving the embedded CDN API emulator with demo data")
        config = EmulatorConfig(seed=DEMO_TASKS)
        host, port = "127.0.0.1", 8900
    try:
        asyncio.run(_serve_emulator(config, host, port))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
