"""Client benchmark: our CdnClient against the official SDK, both talking to the emulator.

The emulator runs in its own process with rate limits off, so the CPU time printed per call is
the client's alone; the emulator's CPU share shows which side is the bottleneck.
Run with `make bench` (or `python benchmarks/client.py --calls 2000`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.limiter import RateLimiter
from bot.core.tasks import TaskListRequest

KEY, SECRET = "bench-key", "bench-secret"
PAGE_SIZE = 20


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "bot", "emulator", "--port", "0", "--qps", "0"]
    command += ["--seed", "500", "--access-key-id", KEY, "--access-key-secret", SECRET]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, line.split("listening on ", 1)[1].split()[0]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from Linux /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Row:
    """One benchmark row: our CPU, the emulator's CPU and the wall clock over a block."""

    def __init__(self, emulator_pid: int) -> None:
        self.pid = emulator_pid

    def __enter__(self) -> Row:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        self.server = process_cpu(self.pid)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.server = process_cpu(self.pid) - self.server

    def line(self, name: str, latencies: list[float]) -> str:
        calls = len(latencies)
        ordered = sorted(latencies)
        p50, p99 = statistics.median(ordered), ordered[min(calls - 1, int(calls * 0.99))]
        return (
            f"{name:<32} {calls / self.wall:>8.0f} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f} "
            f"{self.cpu / calls * 1000:>11.3f} {self.cpu / self.wall * 100:>9.0f}% "
            f"{self.server / self.wall * 100:>12.0f}%"
        )


def cpu_of(line: str) -> float:
    return float(line.split()[-3])


def our_client(url: str, **options) -> CdnClient:
    return CdnClient(
        endpoint=url,
        credentials=Credentials(KEY, SECRET),
        limiter=RateLimiter(default_rate=1e9, rates={}),
        **options,
    )


async def ours(url: str, pid: int, calls: int, concurrency: int, version: str) -> str:
    request = TaskListRequest(page_size=PAGE_SIZE)
    latencies: list[float] = []
    async with our_client(url, signature_version=version) as cdn:
        await cdn.describe_refresh_tasks(request)  # warm the connection

        async def worker(count: int) -> None:
            for _ in range(count):
                began = time.perf_counter()
                await cdn.describe_refresh_tasks(request)
                latencies.append(time.perf_counter() - began)

        shares = [calls // concurrency + (n < calls % concurrency) for n in range(concurrency)]
        with Row(pid) as row:
            await asyncio.gather(*(worker(share) for share in shares))
    return row.line(f"ours {version}, concurrency {concurrency}", latencies)


def official(url: str, pid: int, calls: int, algorithm: str | None) -> str:
    from alibabacloud_cdn20180510 import models
    from alibabacloud_cdn20180510.client import Client
    from alibabacloud_tea_openapi import models as openapi

    config = openapi.Config(
        access_key_id=KEY,
        access_key_secret=SECRET,
        endpoint=url.removeprefix("http://"),
        protocol="http",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    sdk = Client(config)
    request = models.DescribeRefreshTasksRequest(page_size=PAGE_SIZE)
    sdk.describe_refresh_tasks(request)
    latencies = []
    with Row(pid) as row:
        for _ in range(calls):
            began = time.perf_counter()
            sdk.describe_refresh_tasks(request)
            latencies.append(time.perf_counter() - began)
    return row.line(f"official SDK {algorithm or 'v3'}, sequential", latencies)


async def coalesced(url: str, readers: int) -> int:
    """Upstream calls made for `readers` identical concurrent reads through the cache."""
    upstream = 0
    async with our_client(url) as cdn:

        class Counting:
            async def describe_refresh_tasks(self, request, *, priority):
                nonlocal upstream
                upstream += 1
                return await cdn.describe_refresh_tasks(request, priority=priority)

        reads = CachedReads(Counting(), ResponseCache(ttl=30))  # type: ignore[arg-type]
        request = TaskListRequest(page_size=PAGE_SIZE)
        await asyncio.gather(*(reads.describe_refresh_tasks(request) for _ in range(readers)))
    return upstream


def run(step: Callable[[], Awaitable[str]]) -> str:
    return asyncio.run(step())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per row, interleaved; the median is shown"
    )
    args = parser.parse_args()
    process, url = start_emulator()
    pid, calls = process.pid, args.calls
    try:
        print(
            f"DescribeRefreshTasks, PageSize={PAGE_SIZE}, {calls} calls per sequential row, "
            f"median of {args.rounds} rounds, {os.cpu_count()} cores; emulator at {url}"
        )
        print(
            f"{'client':<32} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/call':>11} "
            f"{'our CPU':>10} {'emulator CPU':>13}"
        )
        rows: list[Callable[[], str]] = [
            lambda: run(lambda: ours(url, pid, calls, 1, "v3")),
            lambda: official(url, pid, calls, None),
            lambda: run(lambda: ours(url, pid, calls, 1, "v1")),
            lambda: official(url, pid, calls, "v2"),
            lambda: run(lambda: ours(url, pid, calls * 2, 20, "v3")),
        ]
        # Rounds are interleaved so that a busy moment of the machine hits every row alike.
        results: list[list[str]] = [[] for _ in rows]
        for _ in range(args.rounds):
            for row, measure in zip(results, rows, strict=True):
                row.append(measure())
        for row in results:
            print(sorted(row, key=cpu_of)[len(row) // 2])
        upstream = asyncio.run(coalesced(url, 100))
        print(f"100 concurrent identical cached reads -> {upstream} upstream call(s)")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
