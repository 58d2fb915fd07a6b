"""Chaos run: the bot (its own process) against a faulty emulator and the stand-in Slack.

For a bounded time, concurrent people send /cdn commands and failing tasks are created while the
emulator injects faults; then the faults stop and the bot gets two watcher cycles to catch up.
Prints commands answered, notifications expected vs delivered, duplicates and crashes.
Run `python benchmarks/chaos.py [--seconds 30 --users 10 --channels 5 --fault-rate 0.3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.slack import free_port, start_bot
from benchmarks.watcher import posts, spawn
from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.chaos import FaultPlan
from bot.cdn.limiter import RateLimiter
from bot.errors import BotError
from tests.slack.fake_slack import signed_headers, slash_command

KEY, SECRET = "bench-key", "bench-secret"
# Distinct pages keep some commands away from the cache, so faults reach them.
QUERIES = ["failed", "type:file", "www.example.com", "status:refreshing", "since:1h", "help"]
QUERIES += [f"type:file page:{n}" for n in range(2, 40)]


async def run(args: argparse.Namespace) -> None:
    plan = FaultPlan(
        rate=args.fault_rate,
        kinds=("5xx", "throttle", "garbage", "truncated", "reset", "timeout"),
        latency_ms=20,
        stall_seconds=3,
        seed=args.seed,
    )
    config = EmulatorConfig(
        access_key_id=KEY, access_key_secret=SECRET, qps=10, task_seconds=1,
        fail_pattern="/broken/", seed=200, faults=plan,
    )  # fmt: skip
    slack, slack_url = spawn(str(Path(__file__).with_name("watcher.py")), "--serve-slack")
    with Emulator(config).running() as emulator:
        port = free_port()
        folder = tempfile.mkdtemp()
        bot = start_bot(port, _Slack(slack_url), emulator.url, extra={
            "WATCH_INTERVAL": "2", "CDN_READ_TIMEOUT": "2", "CDN_MAX_RETRIES": "2",
            "DATABASE_URL": f"sqlite:///{folder}/bot.db",
        })  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        answers: Counter[str] = Counter()
        failing: list[str] = []
        try:
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                await _wait_up(http)
                channels = [f"C0CHAOS{n:02d}" for n in range(args.channels)]
                for channel in channels:
                    await _command(http, slack_url, "subscribe", channel, answers)
                deadline = time.monotonic() + args.seconds
                people = range(args.users)
                cdn = CdnClient(
                    endpoint=emulator.url,
                    credentials=Credentials(KEY, SECRET),
                    limiter=RateLimiter(),
                )
                async with cdn:
                    await asyncio.gather(
                        *(_person(http, slack_url, n, deadline, answers) for n in people),
                        _failures(cdn, deadline, failing),
                    )
                emulator.config.faults = FaultPlan()  # the faults stop
                await asyncio.sleep(3 * 2 + 3)  # two watcher cycles and a margin
                delivered = Counter()
                for channel in channels:
                    text = json.dumps(posts(slack_url, channel))
                    for path in failing:
                        delivered[(channel, path)] = text.count(path + '"') + text.count(path + "`")
            alive = bot.poll() is None
        finally:
            bot.terminate()
            bot.wait()
            slack.terminate()
            slack.wait()
    expected = len(failing) * args.channels
    got = sum(1 for key, count in delivered.items() if count >= 1 and key[1] in failing)
    duplicates = sum(count - 1 for count in delivered.values() if count > 1)
    total = sum(answers.values())
    print(
        f"chaos for {args.seconds:g} s, fault rate {args.fault_rate:.0%} (every kind), "
        f"{args.users} people, {args.channels} subscribed channels"
    )
    print(
        f"commands sent {total}: answered {total - answers['unanswered']}, "
        f"with a table/help {answers['answer']}, with a clear error {answers['error']}, "
        f"apologies {answers['apology']}, unanswered {answers['unanswered']}"
    )
    print(f"faults injected: {dict(emulator.faults_injected)}")
    print(f"notifications expected {expected}, delivered {got}, duplicates {duplicates}")
    print(f"bot process alive at the end: {alive}; crashes: {0 if alive else 1}")


class _Slack:
    def __init__(self, url: str) -> None:
        self.api_url = f"{url}/api/"


async def _wait_up(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/healthz")).status_code in (200, 503):
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the bot did not come up")


async def _command(http, slack_url: str, text: str, channel: str, answers: Counter) -> None:
    hook = f"{slack_url}/respond/chaos-{random.getrandbits(48)}"
    body = slash_command(text, response_url=hook).replace(b"C1", channel.encode())
    response = await http.post("/slack/events", content=body, headers=signed_headers(body))
    if response.status_code != 200:
        answers["unanswered"] += 1
        return
    for _ in range(600):  # a reply may wait out faults and retries
        replies = posts_of(slack_url, hook)
        if replies:
            text = replies[0]["text"]
            kind = (
                "apology"
                if "Sorry" in text
                else "error"
                if text.startswith(":warning:")
                else "answer"
            )
            answers[kind] += 1
            return
        await asyncio.sleep(0.1)
    answers["unanswered"] += 1


def task_ids_in(body: dict) -> list[str]:
    """The task IDs a notification names: its table rows, or a single task's context line."""
    found = []
    for block in body.get("blocks", []):
        if block["type"] == "table":
            found += [row[0]["text"] for row in block["rows"][1:]]
        elif block["type"] == "context" and block["elements"][0]["text"].startswith("Task ID "):
            found.append(block["elements"][0]["text"].removeprefix("Task ID "))
    return found


def posts_of(slack_url: str, hook: str) -> list[dict]:
    import urllib.request

    with urllib.request.urlopen(f"{slack_url}/responses?hook={hook.rsplit('/', 1)[1]}") as answer:
        return json.loads(answer.read())


async def _person(http, slack_url: str, number: int, deadline: float, answers: Counter) -> None:
    rng = random.Random(number)
    while time.monotonic() < deadline:
        await _command(http, slack_url, rng.choice(QUERIES), "C0CHAOS00", answers)


async def _failures(cdn: CdnClient, deadline: float, failing: list[str]) -> None:
    number = 0
    while time.monotonic() < deadline:
        path = f"https://www.example.com/broken/chaos-{number}.js"
        for _ in range(20):
            try:
                made = await cdn.refresh_object_caches([path])
                failing.extend(made.task_ids)
                break
            except BotError:
                await asyncio.sleep(0.2)
        number += 1
        await asyncio.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
