"""Writes benchmark: what a refresh or prefetch costs the account and Slack.

Against the emulator at the API's documented rates (RefreshObjectCaches and PushObjectCache
50/s, DescribeRefreshTaskById 30/s), with quotas raised so nothing is refused, it prints:
- calls and wall time to submit 5,000 URLs through the Writer (files, directories,
  prefetch), with the documented rates and with the limiter as the bot builds it from `CDN_QPS`;
- polling with 100 tasks in flight: calls per look, and calls per minute at the progress
  cadence of bot/core/progress.py, measured for `--seconds` and worked out for 30 minutes;
- chat.update calls per progress message and app-wide, from the rules in bot/core/progress.py
  (one update per message every 10 s, none when nothing changed, 40 a minute for the app),
  replayed over simulated time for 1, 10 and 100 submissions started together.
Run `python benchmarks/writes.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.limiter import RateLimiter
from bot.cdn.writes import Writer
from bot.core.progress import CAPS, Cadence, Window, follow
from bot.core.submission import Action, parse_submission

KEY, SECRET = "bench-key", "bench-secret"
BIG = 1_000_000


def client(emulator: Emulator, limiter: RateLimiter) -> CdnClient:
    return CdnClient(endpoint=emulator.url, credentials=Credentials(KEY, SECRET), limiter=limiter)


def urls(count: int) -> str:
    return " ".join(f"https://www.example.com/v2/{n}.js" for n in range(count))


def folders(count: int) -> str:
    return " ".join(f"https://www.example.com/v2/{n}/" for n in range(count))


async def submissions(emulator: Emulator, count: int) -> None:
    print(f"submitting {count:,} URLs through the Writer (emulator enforcing documented rates)")
    print(f"  {'what':<34} {'limiter':<26} {'calls':>5} {'wall s':>7}")
    cases = [
        ("refresh, files", Action.REFRESH, urls(count)),
        ("refresh, directories", Action.REFRESH, "type:dir " + folders(count)),
        ("prefetch", Action.PREFETCH, urls(count)),
    ]
    limiters = {
        "documented rates": RateLimiter,
        "as built from CDN_QPS=10": lambda: RateLimiter(rates={"DescribeRefreshTasks": 10}),
    }
    for label, action, text in cases:
        submission = parse_submission(action, text)
        for name, make in limiters.items():
            before = len(emulator.calls)
            async with client(emulator, make()) as cdn:
                started = time.perf_counter()
                submitted = await Writer(cdn).submit(submission)
                wall = time.perf_counter() - started
            assert not submitted.refused, submitted.error
            calls = len(emulator.calls) - before
            print(f"  {label:<34} {name:<26} {calls:>5} {wall:>7.2f}")


async def polling(emulator: Emulator, seconds: float) -> None:
    cadence = Cadence()
    async with client(emulator, RateLimiter()) as cdn:
        writer = Writer(cdn)
        submitted = await writer.submit(parse_submission(Action.REFRESH, urls(100)))
        ids = submitted.task_ids
        before = len(emulator.calls_of("DescribeRefreshTaskById"))
        started = time.perf_counter()
        await writer.tasks(ids)
        look = time.perf_counter() - started
        per_look = len(emulator.calls_of("DescribeRefreshTaskById")) - before
        print(f"polling 100 tasks in flight: {per_look} calls per look, {look * 1000:.0f} ms each")
        before = len(emulator.calls_of("DescribeRefreshTaskById"))
        begun = time.monotonic()
        while (elapsed := time.monotonic() - begun) < seconds:
            await writer.tasks(ids)
            wait = cadence.interval(timedelta(seconds=elapsed)).total_seconds()
            await asyncio.sleep(max(0.0, min(wait, seconds - (time.monotonic() - begun))))
        measured = len(emulator.calls_of("DescribeRefreshTaskById")) - before
    print(f"  measured over the first {seconds:g} s at the cadence: {measured} calls")
    minutes: Counter[int] = Counter()
    at = timedelta()
    while at < CAPS[Action.REFRESH]:
        minutes[int(at.total_seconds() // 60)] += per_look
        at += cadence.interval(at)
    phases = [(0, 2), (2, 10), (10, 30)]
    for first, last in phases:
        rate = sum(minutes[m] for m in range(first, last)) / (last - first)
        print(f"  minutes {first:>2}-{last:<2}: {rate:5.0f} calls/min (API allows 1,800/min)")
    print(f"  30 minutes in all: {sum(minutes.values())} calls (if no task ever finishes)")


def chat_updates(messages: int, *, done_after: timedelta) -> tuple[float, int]:
    """(updates per message, most app-wide in any minute) for `messages` submissions started
    together whose counts change at every look until `done_after`."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    submission = parse_submission(Action.REFRESH, urls(1))
    cadence, window = Cadence(), Window()
    posted = [
        follow(
            submission,
            ("1",),
            id=str(n),
            user="U1",
            channel="C1",
            refused=0,
            at=start,
            private=False,
        )
        for n in range(messages)
    ]
    tracked = [replace(item, message_ts="1.0") for item in posted]  # a message in the channel
    looks = [start] * messages
    updates: list[datetime] = []
    per_message = [0] * messages
    while any(t.finished_at is None for t in tracked):
        waiting = [i for i in range(messages) if tracked[i].finished_at is None]
        n = min(waiting, key=lambda i: looks[i])
        now, item = looks[n], tracked[n]
        final = now - start >= done_after
        shown = "final" if final else f"look {int((now - start).total_seconds())}"
        changed = shown != item.shown
        if changed and item.may_update(now, final=final) and window.take(now):
            tracked[n] = item.updated(shown, now, final=final)
            updates.append(now)
            per_message[n] += 1
        looks[n] = tracked[n].next_look(now, cadence)
        if final and tracked[n].finished_at is None:
            looks[n] = now + timedelta(seconds=1)  # the final state waits for room, then goes
    busiest = max(
        sum(1 for u in updates if first <= u < first + timedelta(minutes=1)) for first in updates
    )
    return sum(per_message) / messages, busiest


async def run(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        access_key_id=KEY, access_key_secret=SECRET, qps=10, task_seconds=args.task_seconds
    )
    emulator = Emulator(config)
    for name in ("Url", "Dir", "Preload"):
        emulator.ledger.quotas[name] = BIG
    await emulator.start()
    try:
        await submissions(emulator, args.urls)
        await polling(emulator, args.seconds)
    finally:
        await emulator.stop()
    done = timedelta(minutes=5)
    print("chat.update for submissions whose counts change at every look, final after 5 min:")
    for messages in (1, 10, 100):
        each, busiest = chat_updates(messages, done_after=done)
        print(
            f"  {messages:>3} at once: {each:5.1f} updates per message, "
            f"app-wide busiest minute {busiest} (Slack Tier 3: ~50/min)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=5000, help="URLs per submission")
    parser.add_argument("--seconds", type=float, default=60, help="how long to poll for real")
    parser.add_argument("--task-seconds", type=float, default=3600, help="how long tasks take")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
