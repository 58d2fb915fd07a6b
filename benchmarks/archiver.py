"""Archiver benchmark: 10,000 tasks a day, the first backfill and the cycles after it.

The emulator runs as a process of its own, on a clock the benchmark moves (one cycle's worth at
a time), holding three days of tasks that end over minutes to hours, and making a day's rate
of new ones as its clock moves; so "CPU s" is the archiver's alone, its database threads
included. Calls are counted by the emulator. The account's documented rate limits apply, as in
production. Then a store holding HISTORY_DAYS of such tasks answers the queries /cdn and
/cdn stats ask of it. Run `python benchmarks/archiver.py [--database-url postgresql://…]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from bot.archiver import ARCHIVE_INTERVAL, Archiver
from bot.cdn.cache import CachedReads, ResponseCache
from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.ledger import LedgerTask, failure_for
from bot.cdn.limiter import RateLimiter
from bot.core.tasks import HISTORY_DAYS, ObjectType, Status, Task
from bot.store.database import Store

KEY, SECRET = "bench-key", "bench-secret"
SHARES = {"file": 0.80, "preload": 0.15, "directory": 0.05}
DOMAINS = [f"d{n}.example.com" for n in range(20)]
FAILING = 0.03  # share of tasks that fail
TYPES = (ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD)  # what the archiver reads


class StepClock:
    """A wall clock moved by hand, in both processes by the same steps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def draft(rng: random.Random, created: datetime) -> LedgerTask:
    """A task as an account making 10,000 a day makes them: mostly files, most done in
    minutes, some taking hours."""
    kind = rng.choices(list(SHARES), weights=list(SHARES.values()))[0]
    n = rng.randrange(10**9)
    broken = "broken/" if rng.random() < FAILING else ""
    tail = "/" if kind == "directory" else ".js"
    path = f"https://{rng.choice(DOMAINS)}/{broken}{kind}/{n}{tail}"
    roll = rng.random()
    if roll < 0.70:
        duration = rng.uniform(30, 300)
    elif roll < 0.95:
        duration = rng.uniform(300, 1800)
    else:
        duration = rng.uniform(1800, 7200)
    return LedgerTask("", path, kind, created, duration, failure_for(path) if broken else None)


def made_between(
    rng: random.Random, start: datetime, end: datetime, per_day: int
) -> list[LedgerTask]:
    """Tasks made in (start, end] at `per_day`, oldest first."""
    seconds = (end - start).total_seconds()
    count = int(seconds * per_day / 86_400 + rng.random())
    moments = sorted(rng.uniform(0, seconds) for _ in range(count))
    return [draft(rng, (start + timedelta(seconds=s)).replace(microsecond=0)) for s in moments]


async def serve(start: datetime, per_day: int, seed: int) -> None:
    """The emulator's process: three days of tasks, then more as the benchmark moves its clock."""
    clock = StepClock(start)
    emulator = Emulator(
        EmulatorConfig(access_key_id=KEY, access_key_secret=SECRET, qps=0, clock=clock)
    )
    rng = random.Random(seed)
    ledger = emulator.ledger

    def add(tasks: list[LedgerTask]) -> Counter[str]:
        for task in tasks:
            ledger.add(replace(task, task_id=ledger.next_id()))
        return Counter(task.object_type for task in tasks)

    add(made_between(rng, start - timedelta(days=HISTORY_DAYS), start, per_day))

    async def advance(request: web.Request) -> web.Response:
        before = clock.now
        clock.now += timedelta(seconds=float(request.query["seconds"]))
        made = add(made_between(rng, before, clock.now, per_day))
        return web.json_response(dict(made))

    async def calls(_request: web.Request) -> web.Response:
        return web.json_response(dict(Counter(call.action for call in emulator.calls)))

    app = emulator.app()
    app.router.add_post("/bench/advance", advance)
    app.router.add_get("/bench/calls", calls)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


def spawn(start: datetime, per_day: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", start.isoformat(), "--per-day", str(per_day)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split("listening on ")[1].strip()


def bench_call(url: str, path: str, *, post: bool = False) -> dict[str, int]:
    request = urllib.request.Request(f"{url}{path}", method="POST" if post else "GET")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


async def unfinished_now(store: Store, now: datetime) -> int:
    horizon = now - timedelta(days=HISTORY_DAYS)
    return sum(task.created > horizon for task in await store.unfinished_archived())


async def run_cycles(args: argparse.Namespace, database_url: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    emulator, url = spawn(start, args.per_day)
    clock = StepClock(start)
    store = await Store.open(database_url)
    client = CdnClient(
        endpoint=url, credentials=Credentials(KEY, SECRET), limiter=RateLimiter(), now=clock
    )
    archiver = Archiver(
        store=store,
        reads=CachedReads(client, ResponseCache(ttl=0)),
        clock=clock,
        keep_days=args.history_days,
        types=TYPES,
    )
    print(
        f"{args.per_day} tasks a day, a cycle every {ARCHIVE_INTERVAL:g} s, "
        f"DescribeRefreshTasks at 10/s as documented:"
    )
    print(
        f"{'cycle':>9} {'new':>5} {'unfinished':>10} {'predicted':>9} {'list':>5} "
        f"{'by ID':>5} {'calls':>5} {'cycle s':>8} {'CPU s':>6} {'rows':>7}"
    )
    steady: list[tuple[int, float, float]] = []
    try:
        counted = bench_call(url, "/bench/calls")
        made: dict[str, int] = {}
        for number in range(args.cycles + 1):
            if number:
                made = bench_call(url, f"/bench/advance?seconds={ARCHIVE_INTERVAL:g}", post=True)
                clock.now += timedelta(seconds=ARCHIVE_INTERVAL)
            unfinished = await unfinished_now(store, clock.now)
            cpu, wall = time.process_time(), time.perf_counter()
            report = await archiver.cycle()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            now_counted = bench_call(url, "/bench/calls")
            listed = now_counted.get("DescribeRefreshTasks", 0) - counted.get(
                "DescribeRefreshTasks", 0
            )
            by_id = now_counted.get("DescribeRefreshTaskById", 0) - counted.get(
                "DescribeRefreshTaskById", 0
            )
            counted = now_counted
            rows, _ = await store.archived(limit=0)
            new = report.listed if not number else sum(made.values())
            if number:  # new ÷ 100 per type (at least one call each) + unfinished ÷ 10
                news = [made.get(kind.value, 0) for kind in TYPES]
                predicted = sum(max(1, -(-n // 100)) for n in news) + -(-unfinished // 10)
            else:  # the three days ÷ 100 per type
                kept = [(await store.archived(object_type=kind, limit=0))[0] for kind in TYPES]
                predicted = sum(max(1, -(-n // 100)) for n in kept)
            name = "backfill" if not number else str(number)
            print(
                f"{name:>9} {new:>5} {unfinished:>10} {predicted:>9} {listed:>5} {by_id:>5} "
                f"{listed + by_id:>5} {wall:>8.2f} {cpu:>6.3f} {rows:>7}"
            )
            assert not report.failed, report.failed
            if number:
                steady.append((listed + by_id, wall, cpu))
    finally:
        await client.aclose()
        await store.close()
        emulator.terminate()
        emulator.wait()
    calls = [c for c, _, _ in steady]
    print(
        f"steady state over {len(steady)} cycles: calls median {statistics.median(calls):g} "
        f"(max {max(calls)}), cycle median {statistics.median(w for _, w, _ in steady):.2f} s, "
        f"CPU median {statistics.median(c for _, _, c in steady) * 1000:.0f} ms"
    )


def history_rows(days: int, per_day: int, now: datetime) -> list[Task]:
    rng = random.Random(7)
    tasks = made_between(rng, now - timedelta(days=days), now, per_day)
    number = 15_300_000_000
    kept = []
    for draft_task in tasks:
        number += 1
        status = Status.FAILED if draft_task.failure else Status.COMPLETE
        kept.append(
            Task(
                str(number),
                draft_task.object_path,
                draft_task.object_type,
                status,
                0.0 if draft_task.failure else 100.0,
                draft_task.created,
                draft_task.failure,
            )
        )
    return kept


async def timed(what: str, call, repeat: int = 5) -> None:
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    size = result[0] if isinstance(result, tuple) else result
    size = len(size) if isinstance(size, list) else size
    print(f"  {what:<58} {statistics.median(times) * 1000:>8.1f} ms  ({size} rows)")


async def history_queries(args: argparse.Namespace, database_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    rows = history_rows(args.history_days, args.per_day, now)
    store = await Store.open(database_url)
    await store.prune_archived(now + timedelta(days=1))  # an empty history to start from
    try:
        started = time.perf_counter()
        for at in range(0, len(rows), 10_000):
            await store.archive(rows[at : at + 10_000], now)
        loaded = time.perf_counter() - started
        print(
            f"{args.history_days} days of history: {len(rows)} rows kept in {loaded:.1f} s "
            f"({len(rows) / loaded:,.0f} rows/s, in batches of 10,000)"
        )
        day = now - timedelta(days=1)
        await timed("archived(): page 1 and the total of everything", lambda: store.archived())
        await timed(
            "archived(domain=…, start=7 days ago): page 1 and total",
            lambda: store.archived(domain=DOMAINS[3], start=now - timedelta(days=7)),
        )
        await timed(
            "archived(status=Failed): page 1 and total",
            lambda: store.archived(status=Status.FAILED),
        )
        await timed(
            "archived(task_ids=10 IDs)",
            lambda: store.archived(task_ids=[r.task_id for r in rows[:: len(rows) // 10]][:10]),
        )
        await timed(
            "archived(object_path=…)",
            lambda: store.archived(object_path=rows[12_345].object_path),
        )
        await timed("archived(offset=5000): a deep page", lambda: store.archived(offset=5000))
        await timed(
            "archived_between(one day): /cdn stats", lambda: store.archived_between(day, now)
        )
        await timed(
            "archived_between(one day, domain=…)",
            lambda: store.archived_between(day, now, domain=DOMAINS[3]),
        )
        await timed("unfinished_archived()", store.unfinished_archived)
        started = time.perf_counter()
        pruned = await store.prune_archived(now - timedelta(days=args.history_days - 1))
        took = (time.perf_counter() - started) * 1000
        print(f"  {'prune_archived(): one day of rows':<58} {took:>8.1f} ms  ({pruned} rows)")
    finally:
        await store.close()
    if database_url.startswith("sqlite:///"):
        size = Path(database_url.removeprefix("sqlite:///")).stat().st_size
        print(f"  SQLite file: {size / 2**20:.0f} MiB, {size / len(rows):.0f} bytes a task")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await run_cycles(args, args.database_url or f"sqlite:///{folder}/cycles.db")
    print()
    with tempfile.TemporaryDirectory() as folder:
        await history_queries(args, args.database_url or f"sqlite:///{folder}/history.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: SQLite files)"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(datetime.fromisoformat(args.serve), args.per_day, seed=1))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
