"""Watcher benchmark: cycles with 1, 100 and 1000 subscriptions, and failure-to-post latency.

The emulator and the stand-in Slack run as processes of their own, so the CPU time printed for
a cycle is the watcher's alone (its store threads included). Run `python benchmarks/watcher.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.limiter import RateLimiter
from bot.cdn.source import TaskSource
from bot.config import Settings
from bot.core.watch import Subscription
from bot.slack.app import slack_client
from bot.slack.notify import Notifier
from bot.store.database import Store
from bot.watcher import Watcher
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack

KEY, SECRET = "bench-key", "bench-secret"
DOMAINS = [f"d{n}.example.com" for n in range(20)]
TASK_SECONDS = 1.0


def spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, line.split()[-1] if "listening on" not in line else line.split("listening on ")[
        1
    ].split()[0]


class CountingReads(CachedReads):
    """Counts the upstream DescribeRefreshTasks calls the watcher makes."""

    calls = 0

    async def describe_refresh_tasks(self, request, **options):
        CountingReads.calls += 1
        return await super().describe_refresh_tasks(request, **options)


def now() -> datetime:
    return datetime.now(UTC)


async def make_failures(cdn: CdnClient, count: int, tag: str) -> None:
    # One call names ten domains at most: half the domains at a time.
    for half in (DOMAINS[:10], DOMAINS[10:]):
        paths = [f"https://{DOMAINS[n % 20]}/broken/{tag}/{n}.js" for n in range(count)]
        paths = [path for path in paths if path.split("/")[2] in half]
        for start in range(0, len(paths), 1000):
            await cdn.refresh_object_caches(paths[start : start + 1000])


def watcher_for(store: Store, reads: CachedReads, client, interval: float) -> Watcher:
    return Watcher(
        store=store,
        fetch_failures=TaskSource(reads, clock=now).failed,
        post=Notifier(client).post_failures,
        clock=now,
        interval=interval,
        overlap=timedelta(hours=1),
        concurrency=16,
    )


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    return spawn(
        "-m", "bot", "emulator", "--port", "0", "--qps", "0", "--access-key-id", KEY,
        "--access-key-secret", SECRET, "--task-seconds", str(TASK_SECONDS),
        "--fail-pattern", "/broken/",
    )  # fmt: skip


def cdn_client(url: str) -> CdnClient:
    # The documented per-action rates, as in production.
    return CdnClient(endpoint=url, credentials=Credentials(KEY, SECRET), limiter=RateLimiter())


async def one_cycle(size: int, failures: int, client) -> str:
    """A fresh emulator and database: `size` subscriptions, then `failures` failed tasks."""
    emulator, url = start_emulator()
    try:
        async with cdn_client(url) as cdn:
            with tempfile.TemporaryDirectory() as folder:
                store = await Store.open(f"sqlite:///{folder}/bot.db")
                for n in range(size):
                    domain = DOMAINS[n % 20] if n % 4 else None  # a quarter hear of everything
                    await store.subscribe(Subscription(f"C{n:05d}", domain, None, "U0B", now()))
                await asyncio.sleep(1.1)  # subscriptions strictly older than the failures
                await make_failures(cdn, failures, f"s{size}")
                await asyncio.sleep(TASK_SECONDS + 0.2)  # let them fail
                reads = CountingReads(cdn, ResponseCache(ttl=0))
                watcher = watcher_for(store, reads, client, 60)
                CountingReads.calls = 0
                cpu, wall = time.process_time(), time.perf_counter()
                report = await watcher.cycle()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                await store.close()
    finally:
        emulator.terminate()
        emulator.wait()
    calls = CountingReads.calls
    return f"{size:>14} {calls:>15} {wall:>8.2f} {cpu:>7.2f} {len(report.posted):>6}"


async def cycles(client, failures: int) -> None:
    print(f"one cycle after {failures} failures over {len(DOMAINS)} domains:")
    print(f"{'subscriptions':>14} {'upstream calls':>15} {'cycle s':>8} {'CPU s':>7} {'posts':>6}")
    for size in (1, 100, 1000):
        print(await one_cycle(size, failures, client))


def posts(slack_url: str, channel: str) -> list[dict]:
    with urllib.request.urlopen(f"{slack_url}/posts?channel={channel}") as answer:
        return json.loads(answer.read())


async def latency(client, slack_url: str, interval: float, count: int) -> None:
    emulator, url = start_emulator()
    async with cdn_client(url) as cdn:
        try:
            await measure_latency(cdn, client, slack_url, interval, count)
        finally:
            emulator.terminate()
            emulator.wait()


async def measure_latency(cdn, client, slack_url: str, interval: float, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bot.db")
        await store.subscribe(Subscription("C-latency", None, None, "U0BENCH01", now()))
        watcher = watcher_for(store, CachedReads(cdn, ResponseCache(ttl=0)), client, interval)
        stop = asyncio.Event()
        running = asyncio.create_task(watcher.run(stop))
        failed_at: dict[str, float] = {}
        for n in range(count):
            await asyncio.sleep(interval * 0.37)  # spread over the cycle phase
            await cdn.refresh_object_caches([f"https://{DOMAINS[0]}/broken/lat/{n}.js"])
            failed_at[f"/broken/lat/{n}.js"] = time.time() + TASK_SECONDS
        deadline = time.time() + interval * 2 + 10
        delays: dict[str, float] = {}
        while time.time() < deadline and len(delays) < count:
            await asyncio.sleep(0.2)
            for post in posts(slack_url, "C-latency"):
                posted = json.dumps(post["body"])
                for path, at in failed_at.items():
                    if path in posted:
                        delays.setdefault(path, post["at"] - at)
        stop.set()
        await running
        await store.close()
    values = sorted(delays.values()) or [float("nan")]
    print(
        f"failure → Slack post with WATCH_INTERVAL={interval:g} s: {len(values)}/{count} posted, "
        f"median {statistics.median(values):.2f} s, max {values[-1]:.2f} s "
        f"(target ≤ {interval + 2:g} s)"
    )


async def main_async(args: argparse.Namespace) -> None:
    slack, slack_url = spawn(__file__, "--serve-slack")
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=f"{slack_url}/api/")
    try:
        async with slack_client(settings) as client:
            await cycles(client, args.failures)
            await latency(client, slack_url, args.interval, args.samples)
    finally:
        slack.terminate()
        slack.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=500)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--serve-slack", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_slack:
        asyncio.run(FakeSlack().serve_forever())
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
