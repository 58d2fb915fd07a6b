"""Abuse run: what one hostile or careless person can cost everyone else.

The bot runs as its own process (`python -m bot` in HTTP mode) against the emulator at the
API's real rate (10 DescribeRefreshTasks calls/s) with a few thousand failed tasks in the last
hours; this process plays Slack. It prints, for each scene:
- the huge query (`status:failed page:100000 size:100`): upstream calls and time to the answer;
- a burst of 20 heavy-looking queries from one person, then one from a second person: upstream
  calls per command, how the burst was answered, the second person's wait, and how long a
  failure created during the burst takes to be announced in a subscribed channel;
- the same burst spread over 20 different people (fair turns cannot tell them from a crowd);
- a flood of unsigned requests carrying a response_url: statuses, whether any reply left, and a
  signed command's wait meanwhile;
- the bot's peak RSS.
Run `python benchmarks/abuse.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.slack import free_port, peak_rss_mb, start_bot, wait_until_up
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.ledger import Ledger, LedgerTask
from tests.slack.fake_slack import FakeSlack, signed_headers, slash_command

KEY, SECRET = "bench-key", "bench-secret"
KINDS = {"file": 1200, "directory": 400, "preload": 400}  # failed tasks per type, last 3 hours


def heavy_history(ledger: Ledger, now: datetime) -> None:
    for kind, count in KINDS.items():
        for n in range(count):
            created = now - timedelta(seconds=30 + n * 3 * 3600 // count)
            path = f"https://www.example.com/{kind}/{n}.js"
            ledger.add(LedgerTask(ledger.next_id(), path, kind, created, 10, "Origin Timeout"))


class Slack:
    """The stand-in Slack and the bot's URL: send a command, wait for its reply."""

    def __init__(self, slack: FakeSlack, http: httpx.AsyncClient, url: str) -> None:
        self.slack, self.http, self.url = slack, http, url

    async def ask(self, text: str, *, user: str) -> tuple[float, str]:
        """(seconds from sending to the reply, the reply's text)."""
        hook = self.slack.new_response_url()
        body = slash_command(text, response_url=hook, user=user)
        sent = time.perf_counter()
        answer = await self.http.post(
            f"{self.url}/slack/events", content=body, headers=signed_headers(body)
        )
        assert answer.status_code == 200, answer.text
        (reply,) = await self.slack.response_to(hook, timeout=120)
        return time.perf_counter() - sent, str(reply.get("text", ""))


def kind_of(text: str) -> str:
    if "already have" in text:
        return "told to wait"
    if "too deep" in text or "calls to Alibaba" in text:
        return "refused as too costly"
    if "within" in text and "seconds" in text:
        return "deadline"
    return "answered"


async def burst(bot: Slack, emulator: Emulator, *, people: int) -> None:
    before = len(emulator.calls_of("DescribeRefreshTasks"))
    queries = [f"failed since:{60 + n}m page:5 size:100" for n in range(20)]
    started = time.perf_counter()
    heavy = [
        asyncio.create_task(bot.ask(text, user=f"U0HEAVY{n % people:03d}"))
        for n, text in enumerate(queries)
    ]
    await asyncio.sleep(0.2)  # the burst is queued at the API before the second person types
    wait, _ = await bot.ask("type:file since:7m size:5", user="U0SECOND1")
    outcomes = await asyncio.gather(*heavy)
    wall = time.perf_counter() - started
    calls = len(emulator.calls_of("DescribeRefreshTasks")) - before
    counted = Counter(kind_of(text) for _, text in outcomes)
    answered = [seconds for seconds, text in outcomes if kind_of(text) == "answered"]
    who = "one person" if people == 1 else f"{people} people"
    print(f"burst of 20 heavy queries from {who}: {dict(counted)}; {calls} upstream calls")
    if answered:
        print(
            f"  answered heavy queries: median {statistics.median(answered):.2f} s, "
            f"max {max(answered):.2f} s; burst over in {wall:.1f} s"
        )
    print(f"  second person's one-call query answered in {wait:.2f} s")


async def notification_during_burst(bot: Slack, emulator: Emulator) -> None:
    await bot.ask("subscribe", user="U0OPS0001")
    now = datetime.now(UTC)
    ledger = emulator.ledger
    task = LedgerTask(ledger.next_id(), "https://www.example.com/broken/x.js", "file", now, 1, "x")
    queries = [f"failed since:{100 + n}m page:5 size:100" for n in range(20)]
    heavy = [asyncio.create_task(bot.ask(text, user="U0HEAVY000")) for text in queries]
    ledger.add(task)
    created = time.perf_counter()
    await bot.slack.wait_for(
        lambda: any(task.task_id in str(body) for _, body in bot.slack.posts), timeout=120
    )
    waited = time.perf_counter() - created
    print(f"  a failure created during the burst was announced after {waited:.1f} s")
    await asyncio.gather(*heavy)


async def unsigned_flood(bot: Slack, count: int) -> None:
    replies_before = len(bot.slack.responses)
    statuses: Counter[int] = Counter()

    async def one(n: int) -> None:
        body = slash_command("failed", response_url=bot.slack.new_response_url())
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers["X-Slack-Request-Timestamp"] = "x" if n % 2 else str(int(time.time()))
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        statuses[
            (
                await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
            ).status_code
        ] += 1

    async def flood() -> None:
        for first in range(0, count, 50):
            await asyncio.gather(*(one(n) for n in range(first, min(count, first + 50))))

    started = time.perf_counter()
    flooding = asyncio.create_task(flood())
    await asyncio.sleep(0.2)
    wait, _ = await bot.ask("type:file since:9m size:5", user="U0SECOND1")
    await flooding
    wall = time.perf_counter() - started
    leaked = len(bot.slack.responses) - replies_before - 1
    print(
        f"unsigned flood: {count} requests in {wall:.1f} s ({count / wall:.0f}/s), statuses "
        f"{dict(statuses)}, replies sent for them: {leaked}; "
        f"a signed command meanwhile: {wait:.2f} s"
    )


async def run(args: argparse.Namespace) -> None:
    slack = FakeSlack()
    await slack.start()
    config = EmulatorConfig(access_key_id=KEY, access_key_secret=SECRET, qps=10, task_seconds=1)
    with Emulator(config).running() as emulator:
        heavy_history(emulator.ledger, datetime.now(UTC))
        port = free_port()
        process = start_bot(port, slack, emulator.url, extra={"WATCH_INTERVAL": "2"})
        url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=120) as http:
                await wait_until_up(http, url)
                bot = Slack(slack, http, url)
                before = len(emulator.calls_of("DescribeRefreshTasks"))
                seconds, text = await bot.ask(
                    "status:failed page:100000 size:100", user="U0HUGE001"
                )
                calls = len(emulator.calls_of("DescribeRefreshTasks")) - before
                print(
                    f"huge query: {calls} upstream calls, answered in {seconds:.2f} s "
                    f"({kind_of(text)})"
                )
                await burst(bot, emulator, people=1)
                await notification_during_burst(bot, emulator)
                await burst(bot, emulator, people=20)
                await unsigned_flood(bot, args.flood)
            print(f"bot peak RSS: {peak_rss_mb(process.pid):.0f} MB")
        finally:
            process.terminate()
            process.wait()
            await slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=2000, help="unsigned requests to send")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
