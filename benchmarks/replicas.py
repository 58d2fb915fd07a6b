"""Three bot replicas on one Redis and one PostgreSQL, against the emulator and the stand-in Slack.

Prints: the peak upstream calls per second across the replicas under a burst of commands and the
upstream calls per distinct query; the latency Redis adds per command (cache hit and miss), from
a replica with Redis against one without; the failover time after SIGKILL of the leader; and the
duplicates and losses of failure notifications over a run with two leader kills.

Run `python benchmarks/replicas.py [--commands 300 --distinct 60 --lease 15]` (it starts its own
throwaway Redis and PostgreSQL from Debian's packages, which `make test` installs).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cdn.emulator import Emulator, EmulatorConfig
from tests.replicas.harness import (
    KEY,
    SECRET,
    Fleet,
    announced_ids,
    busiest_second,
    fail_one,
    fleet,
    replica_env,
)
from tests.servers.postgres import running_postgres
from tests.servers.redis import running_redis
from tests.slack.fake_slack import FakeSlack

QPS = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def burst(crew: Fleet, emulator: Emulator, commands: int, distinct: int) -> None:
    before = len(emulator.calls_of("DescribeRefreshTasks"))
    slots = asyncio.Semaphore(30)  # thirty people typing at once

    async def one(n: int) -> None:
        async with slots:
            text = f"type:file page:{n % distinct + 1}"
            await crew.command(crew.replicas[n % 3], text, user=f"U0B{n:06d}")

    started = time.monotonic()
    await asyncio.gather(*(one(n) for n in range(commands)))
    took = time.monotonic() - started
    calls = emulator.calls_of("DescribeRefreshTasks")[before:]
    throttled = sum(call.code.startswith("Throttling") for call in calls)
    print(f"burst: {commands} commands ({distinct} distinct) over 3 replicas in {took:.1f} s")
    print(f"  upstream calls: {len(calls)} = {len(calls) / distinct:.2f} per distinct query")
    print(f"  peak upstream calls in any 1 s: {busiest_second(calls)} (limit {QPS})")
    print(f"  throttled by the API: {throttled}")


async def latency(crew: Fleet, rounds: int) -> None:
    """Replica 0 has Redis, replica 1 not: the same commands on each, one at a time."""
    shared, local = crew.replicas

    async def timed(replica, text: str) -> float:
        started = time.perf_counter()
        await crew.command(replica, text, user="U0LAT0001")
        return (time.perf_counter() - started) * 1000

    for replica in (shared, local):
        await timed(replica, "type:preload")  # warm: the hits below are hits
    results: dict[str, dict[str, list[float]]] = {}
    for name, replica in (("redis", shared), ("in-process", local)):
        hits = [await timed(replica, "type:preload") for _ in range(rounds)]
        misses = [await timed(replica, f"type:preload page:{n + 2}") for n in range(rounds)]
        # Each miss is a new page: the other replica misses on its own pages, not these.
        results[name] = {"hit": hits, "miss": misses}
    for kind in ("hit", "miss"):
        with_redis = statistics.median(results["redis"][kind])
        without = statistics.median(results["in-process"][kind])
        print(
            f"command latency, cache {kind}: p50 {with_redis:.1f} ms with Redis, "
            f"{without:.1f} ms without: {with_redis - without:+.1f} ms "
            f"(p90 {percentile(results['redis'][kind], 0.9):.1f} / "
            f"{percentile(results['in-process'][kind], 0.9):.1f} ms)"
        )


def announced(slack: FakeSlack) -> Counter[str]:
    """How many notifications named each task (a digest lists up to 25 rows: the trickle
    below keeps every digest within that, so every task is named)."""
    return Counter(task for body in slack.posts_to("C1") for task in announced_ids(body))


async def failover(crew: Fleet, emulator: Emulator, slack: FakeSlack, lease: float) -> None:
    await crew.command(crew.replicas[0], "subscribe")
    made: list[str] = []
    stop = asyncio.Event()

    async def failures() -> None:
        while not stop.is_set():
            path = f"https://www.example.com/broken/f{len(made):04d}.js"
            made.append(await fail_one(emulator, path))
            await asyncio.sleep(1)  # a steady trickle of failures, one a second

    trickle = asyncio.create_task(failures())
    takeovers: list[float] = []
    for _ in range(2):
        await asyncio.sleep(lease)  # let the current leader announce for a while
        leader = await crew.leader()
        killed_at = time.monotonic()
        leader.kill()
        successor = await crew.leader()
        takeovers.append(time.monotonic() - killed_at)
        print(f"leader {leader.name} killed; {successor.name} leads {takeovers[-1]:.1f} s later")
    await asyncio.sleep(lease)
    stop.set()
    await trickle

    deadline = time.monotonic() + 60
    while not all(announced(slack)[task] for task in made) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)  # the last cycle's failures, announced within a minute
    seen = announced(slack)
    duplicates = sum(count - 1 for name, count in seen.items() if count > 1)
    lost = [name for name in made if not seen[name]]
    print(
        f"failover after SIGKILL (lease {lease:g} s): " + ", ".join(f"{t:.1f} s" for t in takeovers)
    )
    print(f"notifications: {len(made)} failures, {duplicates} duplicates, {len(lost)} lost")


async def run(args: argparse.Namespace) -> None:
    slack = FakeSlack()
    await slack.start()
    config = EmulatorConfig(
        access_key_id=KEY, access_key_secret=SECRET, qps=QPS, task_seconds=0.2,
        fail_pattern="/broken/", seed=2000,
    )  # fmt: skip
    emulator = Emulator(config)
    await emulator.start()
    with running_redis() as redis_url, running_postgres() as postgres:
        postgres.psql("CREATE DATABASE bench")
        database_url = postgres.url("bench")
        common = {"LOG_LEVEL": "WARNING", "CACHE_TTL": "60", "CDN_QPS": str(QPS)}
        env = replica_env(
            slack=slack, endpoint=emulator.url, database_url=database_url, redis_url=redis_url,
            WATCH_INTERVAL="1", LEADER_LEASE=str(args.lease), **common,
        )  # fmt: skip
        async with fleet(3, slack, env) as crew:
            await burst(crew, emulator, args.commands, args.distinct)
            await failover(crew, emulator, slack, args.lease)
        await emulator.stop()
        # Latency: one replica with Redis, one without, on a database of their own each, and
        # an API with no rate limit, so no wait for a turn hides in the numbers.
        emulator = Emulator(EmulatorConfig(access_key_id=KEY, access_key_secret=SECRET, qps=0))
        await emulator.start()
        quiet = {**common, "WATCH_INTERVAL": "3600", "CDN_QPS": "1000"}
        for name in ("latency", "latency_local"):
            postgres.psql(f"CREATE DATABASE {name}")
        with_redis = replica_env(
            slack=slack, endpoint=emulator.url, database_url=postgres.url("latency"),
            redis_url=redis_url, **quiet,
        )  # fmt: skip
        without = replica_env(
            slack=slack, endpoint=emulator.url, database_url=postgres.url("latency_local"),
            redis_url=None, **quiet,
        )  # fmt: skip
        async with fleet(1, slack, with_redis) as shared, fleet(1, slack, without) as local:
            both = Fleet([*shared.replicas, *local.replicas], slack, shared.http)
            await latency(both, args.rounds)
        await emulator.stop()
    await slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--distinct", type=int, default=60)
    parser.add_argument("--lease", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=40)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
