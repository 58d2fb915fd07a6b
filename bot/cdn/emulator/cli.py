"""The flags of `python -m bot emulator`, and the EmulatorConfig they describe."""

from __future__ import annotations

import argparse

from bot.cdn.emulator.chaos import FAULT_KINDS, FaultPlan
from bot.cdn.emulator.server import EmulatorConfig

DEFAULT_PORT = 8900


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Give `parser` (the `emulator` subcommand) every flag the emulator takes."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--access-key-id", default=EmulatorConfig.access_key_id)
    parser.add_argument("--access-key-secret", default=EmulatorConfig.access_key_secret)
    parser.add_argument("--security-token", help="make the key an STS key needing this token")
    parser.add_argument(
        "--qps", type=float, default=10.0, help="DescribeRefreshTasks calls/s; 0 turns limits off"
    )
    parser.add_argument(
        "--task-seconds", type=float, default=30.0, help="how long a new task takes to finish"
    )
    parser.add_argument("--fail-pattern", help="regex: tasks whose ObjectPath matches end Failed")
    parser.add_argument("--seed", type=int, default=0, help="preload N demo tasks")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests that meet a fault (0-1)"
    )
    parser.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated, from {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument(
        "--stall-seconds", type=float, default=15.0, help="how long a timeout fault stalls"
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="repeatable fault sequence")


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    """The emulator the parsed flags ask for (where it listens is `args.host`/`args.port`)."""
    return EmulatorConfig(
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
