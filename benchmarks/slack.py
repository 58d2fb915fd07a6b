"""Slack app benchmark: many people typing /cdn at once against the HTTP app.

The bot runs as its own process (`python -m bot` in HTTP mode) with the emulator behind it;
this process plays Slack: it signs slash commands, sends them from concurrent clients, and
catches the replies at response_url. Run with `python benchmarks/slack.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cdn.emulator import Emulator, EmulatorConfig
from tests.environment import clean_environ
from tests.slack.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    signed_headers,
    slash_command,
)

KEY, SECRET = "bench-key", "bench-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def start_bot(
    port: int, slack: FakeSlack, endpoint: str, *, extra: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    # Only these settings: none the shell running the benchmark happens to export.
    env = clean_environ(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "CDN_ENDPOINT": endpoint,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bot.db",
            **(extra or {}),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def wait_until_up(http: httpx.AsyncClient, url: str) -> None:
    for _ in range(300):
        try:
            if (await http.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)  # polling a process that is starting: nothing to wait on
    raise SystemExit("the bot did not come up")


async def run(commands: int, clients: int, distinct: int) -> None:
    slack = FakeSlack()
    await slack.start()
    config = EmulatorConfig(access_key_id=KEY, access_key_secret=SECRET, qps=0, seed=500)
    with Emulator(config).running() as emulator:
        port = free_port()
        bot = start_bot(port, slack, emulator.url)
        url = f"http://127.0.0.1:{port}"
        acks: list[float] = []
        replies: dict[str, list[float]] = {"live": [], "cached": []}
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                await wait_until_up(http, url)
                before = len(emulator.calls)

                async def one(number: int) -> None:
                    text = f"type:file size:20 page:{number % distinct + 1}"
                    hook = slack.new_response_url()
                    body = slash_command(text, response_url=hook, user=f"U{number % clients:08d}")
                    sent = time.perf_counter()
                    response = await http.post(
                        f"{url}/slack/events", content=body, headers=signed_headers(body)
                    )
                    acked = time.perf_counter()
                    assert response.status_code == 200, response.text
                    (reply,) = await slack.response_to(hook)
                    answered = time.perf_counter()
                    acks.append(acked - sent)
                    context = str(reply["blocks"])
                    replies["live" if "· live" in context else "cached"].append(answered - acked)

                async def client(first: int) -> None:
                    for number in range(first, commands, clients):
                        await one(number)

                started = time.perf_counter()
                await asyncio.gather(*(client(n) for n in range(clients)))
                wall = time.perf_counter() - started
                upstream = len(emulator.calls) - before
            rss = peak_rss_mb(bot.pid)
        finally:
            bot.terminate()
            bot.wait()
            await slack.stop()
    print(
        f"{commands} signed /cdn commands from {clients} concurrent clients, {distinct} distinct "
        f"queries, in {wall:.2f} s ({commands / wall:.0f}/s); bot in its own process"
    )
    rows = [("ack latency", acks)]
    rows += [("reply after ack, cache hit", replies["cached"])]
    rows += [("reply after ack, live", replies["live"])]
    for label, times in rows:
        if times:
            print(
                f"{label:<28} p50 {statistics.median(times) * 1000:7.1f} ms   "
                f"p99 {percentile(times, 0.99) * 1000:7.1f} ms   ({len(times)})"
            )
    print(f"upstream DescribeRefreshTasks calls: {upstream} for {distinct} distinct queries")
    print(f"bot peak RSS: {rss:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--distinct", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.commands, args.clients, args.distinct))


if __name__ == "__main__":
    main()
