"""Writes benchmark: what a refresh or prefetch costs the account and Slack.

Against the emulator at the API's documented rates (RefreshObjectCaches and PushObjectCache
50/s, DescribeRefreshTaskById 30/s), with quotas raised so nothing is refused, it prints:
- calls and wall time to submit 5,000 URLs through the Writer (files, directories,
  prefetch), with the documented rates and with the limiter as the bot builds it from `CDN_QPS`;
- following refreshes to the end with the real progress Tracker (bot/slack/progress.py) against
  the emulator and the stand-in Slack, on one simulated clock moved a second at a time, for 1
  submission of 100 URLs, 10 of 10 and 100 of 1 started together (tasks of 5 minutes, and of
  40, past the 30-minute cap): DescribeRefreshTaskById calls per minute, chat.update calls per
  message and app-wide, and the closest two changes of one message.
Run `python benchmarks/writes.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.limiter import RateLimiter
from bot.cdn.source import account_limiter
from bot.cdn.writes import Writer
from bot.config import Settings
from bot.core.progress import CAPS, MESSAGE_GAP
from bot.core.submission import Action, parse_submission
from bot.slack.app import slack_client
from bot.slack.hooks import reply_hosts
from bot.slack.progress import Tracker
from bot.slack.writes import Started
from bot.store.database import Store
from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack

KEY, SECRET = "bench-key", "bench-secret"
BIG = 1_000_000
LOOKUP = "DescribeRefreshTaskById"


def client(emulator: Emulator, limiter: RateLimiter, **options: Any) -> CdnClient:
    return CdnClient(
        endpoint=emulator.url, credentials=Credentials(KEY, SECRET), limiter=limiter, **options
    )


def urls(count: int) -> str:
    return " ".join(f"https://www.example.com/v2/{n}.js" for n in range(count))


def some_failing(count: int, *, first: int) -> str:
    """`count` file URLs numbered from `first`; every tenth (9, 19, …) is under /broken/."""
    return " ".join(
        f"https://www.example.com/v2/{'broken/' if n % 10 == 9 else ''}{n}.js"
        for n in range(first, first + count)
    )


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
        "as built from CDN_QPS=10": lambda: account_limiter(10),
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


class Clock:
    """A wall clock that moves only when told to: the emulator's, the client's and the Tracker's."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Followed:
    """What following some submissions to the end recorded, in seconds since they started."""

    lookups: list[float] = field(default_factory=list)  # each DescribeRefreshTaskById call
    refused: int = 0  # lookups the emulator throttled
    writes: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # post, updates
    ended: float = 0.0  # when nothing was followed any more
    finals: int = 0  # messages whose last update came once their tasks were done or capped


async def follow_all(submissions: int, each: int, *, task_seconds: float) -> Followed:
    """Submit `submissions` refreshes of `each` URLs at one moment (one in ten URLs fails),
    start the Tracker on each, and cycle it a simulated second at a time until it is done."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    config = EmulatorConfig(
        access_key_id=KEY,
        access_key_secret=SECRET,
        qps=10,
        task_seconds=task_seconds,
        fail_pattern="/broken/",
        clock=clock,
    )
    emulator, slack = Emulator(config), FakeSlack()
    await emulator.start()
    await slack.start()
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url
    )
    store = await Store.open("sqlite:///:memory:")
    seen = Followed()
    try:
        async with (
            client(emulator, account_limiter(10), now=clock) as cdn,
            slack_client(settings) as web,
        ):
            writer = Writer(cdn)
            tracker = Tracker(
                lookup=writer,
                store=store,
                client=web,
                hosts=reply_hosts(settings.slack_api_url),
                clock=clock,
            )
            began = clock()
            for n in range(submissions):
                submission = parse_submission(Action.REFRESH, some_failing(each, first=n * each))
                submitted = await writer.submit(submission)
                assert len(submitted.task_ids) == each, submitted.error
                await tracker.start(Started(submission, submitted, "U1", f"C{n:03d}", None, began))
            for channel, body in slack.posts:
                seen.writes[(channel, body["_ts"])] = [0.0]
            looked, updated = 0, 0
            limit = CAPS[Action.REFRESH].total_seconds() + 300
            while tracker.followed and seen.ended < limit:
                clock.advance(1)
                seen.ended = (clock() - began).total_seconds()
                await tracker.cycle()
                calls = emulator.calls_of(LOOKUP)
                seen.lookups += [seen.ended] * (len(calls) - looked)
                seen.refused += sum(1 for call in calls[looked:] if call.code)
                looked = len(calls)
                changes = slack.calls_of("chat.update")
                for body in changes[updated:]:
                    seen.writes[(body["channel"], body["ts"])].append(seen.ended)
                updated = len(changes)
    finally:
        await store.close()
        await slack.stop()
        await emulator.stop()
    done = min(task_seconds, CAPS[Action.REFRESH].total_seconds())
    seen.finals = sum(1 for times in seen.writes.values() if times[-1] >= done)
    return seen


def per_minute(times: list[float], first: float, last: float) -> str:
    """Events per minute in [first, last) minutes, or '-' when that span is empty."""
    if last <= first:
        return "-"
    count = sum(1 for t in times if first * 60 <= t < last * 60)
    return f"{count / (last - first):.0f}"


def busiest(times: list[float]) -> int:
    """The most events in any 60 s."""
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


async def following(task_seconds: float) -> None:
    print(
        "following refreshes with the Tracker, one URL in ten failing; simulated clock in "
        "1 s steps, a cycle each"
    )
    print(
        f"  {'submissions':<13} {'tasks':>5} {'followed':>8} | "
        f"{'DescribeRefreshTaskById calls/min':<33} | {'chat.update':<38} | {'closest':>7}"
    )
    print(
        f"  {'':<13} {'min':>5} {'min':>8} | {'0-2':>5} {'2-10':>5} {'after':>5} "
        f"{'busiest':>7} {'all':>5} | {'mean/msg':>8} {'max':>4} {'min':>4} "
        f"{'busiest min':>11} {'finals':>7} | {'gap s':>7}"
    )
    closest_all = float("inf")
    long = CAPS[Action.REFRESH].total_seconds() + 600  # outlasts the cap
    rows = [(1, 100, task_seconds), (10, 10, task_seconds), (100, 1, task_seconds)]
    rows += [(1, 100, long), (100, 1, long)]
    for submissions, each, seconds in rows:
        seen = await follow_all(submissions, each, task_seconds=seconds)
        minutes = seen.ended / 60
        counts = [len(times) - 1 for times in seen.writes.values()]
        updates = sorted(t for times in seen.writes.values() for t in times[1:])
        gaps = [b - a for times in seen.writes.values() for a, b in itertools.pairwise(times)]
        closest = min(gaps, default=float("inf"))
        closest_all = min(closest_all, closest)
        print(
            f"  {f'{submissions} x {each} URL' + ('s' if each > 1 else ''):<13} "
            f"{seconds / 60:>5.0f} {minutes:>8.1f} | "
            f"{per_minute(seen.lookups, 0, min(2, minutes)):>5} "
            f"{per_minute(seen.lookups, 2, min(10, minutes)):>5} "
            f"{per_minute(seen.lookups, 10, minutes):>5} {busiest(seen.lookups):>7} "
            f"{len(seen.lookups):>5} | {sum(counts) / len(counts):>8.1f} {max(counts):>4} "
            f"{min(counts):>4} {busiest(updates):>11} "
            f"{f'{seen.finals}/{len(counts)}':>7} | {closest:>7.0f}"
        )
        if seen.refused:
            print(f"    the emulator throttled {seen.refused} lookups")
    verdict = "none" if closest_all >= MESSAGE_GAP.total_seconds() else "SOME"
    print(
        f"  messages changed twice within {MESSAGE_GAP.total_seconds():g} s (post included): "
        f"{verdict}, closest {closest_all:g} s apart"
    )
    print("  (the API allows 1,800 lookups a minute; Slack ~50 chat.update a minute per app)")


async def run(args: argparse.Namespace) -> None:
    emulator = Emulator(EmulatorConfig(access_key_id=KEY, access_key_secret=SECRET, qps=10))
    for name in ("Url", "Dir", "Preload"):
        emulator.ledger.quotas[name] = BIG
    await emulator.start()
    try:
        await submissions(emulator, args.urls)
    finally:
        await emulator.stop()
    await following(args.task_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=5000, help="URLs per submission")
    parser.add_argument("--task-seconds", type=float, default=300, help="how long tasks take")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
