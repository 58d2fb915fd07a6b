"""Several real `python -m bot` processes in HTTP mode, sharing one database (and Redis),
against one CDN emulator and one stand-in Slack served by the test itself."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator
from bot.cdn.emulator.server import Call
from bot.cdn.limiter import RateLimiter
from bot.slack import render, wire
from tests.environment import clean_environ
from tests.servers.ports import free_port
from tests.slack.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    sender,
    signed_headers,
    slash_command,
)

ROOT = Path(__file__).resolve().parents[2]
LOOKING_UP = render.looking_up().text
KEY, SECRET = "replica-key", "replica-secret"


class Replica:
    """One bot process; its output goes to a file (read when a test fails)."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"{name}.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=folder,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=clean_environ(
                    {"PYTHONPATH": str(ROOT), "PORT": str(self.port), "HOST": "127.0.0.1", **env}
                ),
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease handed back (a node dying)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Fleet:
    """The replicas, and how a test talks to them as Slack would."""

    def __init__(self, replicas: Sequence[Replica], slack: FakeSlack, http: httpx.AsyncClient):
        self.replicas = list(replicas)
        self.slack = slack
        self.http = http

    async def health(self, replica: Replica) -> dict[str, Any]:
        answer = await self.http.get(f"{replica.url}/healthz")
        return answer.json()

    async def leader(self) -> Replica:
        """The live replica that says it leads the background work (waiting for one)."""
        found: list[Replica] = []

        async def probe() -> bool:
            found.clear()
            for replica in self.replicas:
                if replica.alive and (await self.health(replica)).get("leader"):
                    found.append(replica)
            return len(found) == 1

        async with contextlib.aclosing(_polls()) as polls:
            async for _ in polls:
                if await probe():
                    return found[0]
        raise AssertionError("unreachable")

    async def command(
        self, replica: Replica, text: str, *, user: str = "U0ANA1234", channel: str = "C1"
    ) -> dict[str, Any]:
        """Send `/cdn text` to `replica` and return the reply that reached its response_url."""
        response_url = self.slack.new_response_url()
        body = wire.command_body(
            dataclasses.replace(sender(user), channel_id=channel),
            text,
            response_url=response_url,
            trigger_id="1.2.3",
        )
        answer = await self.http.post(
            f"{replica.url}/slack/events",
            content=body,
            headers={**signed_headers(body), "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200, answer.text
        return await self._answer(response_url)

    async def _answer(self, response_url: str) -> dict[str, Any]:
        """The reply that reached `response_url`, past any "Looking up …" note."""
        hook = response_url.rsplit("/", 1)[1]

        def answered() -> dict[str, Any] | None:
            # A slow answer is preceded by a "Looking up …" note: wait past it.
            sent = [body for name, body in self.slack.responses if name == hook]
            final = [body for body in sent if body.get("text") != LOOKING_UP]
            return final[-1] if final else None

        return await self.slack.wait_for(answered, timeout=30)

    async def over_socket(
        self, connection: int, text: str, *, user: str = "U0ANA1234"
    ) -> dict[str, Any]:
        """Deliver `/cdn text` over the `connection`-th Socket Mode connection; the reply."""
        response_url = self.slack.new_response_url()
        body = slash_command(text, response_url=response_url, user=user)
        envelope = {
            "envelope_id": f"env-{uuid.uuid4().hex}",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": dict(parse_qsl(body.decode())),
        }
        await self.slack.send_over_socket(envelope, to=connection)
        return await self._answer(response_url)


async def _polls(every: float = 0.05, limit: float = 60) -> AsyncIterator[None]:
    """Ticks for re-asking processes that announce nothing (their /healthz)."""
    async with asyncio.timeout(limit):
        while True:
            yield
            await asyncio.sleep(every)


def replica_env(
    *, slack: FakeSlack, endpoint: str, database_url: str, redis_url: str | None, **extra: str
) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CDN_ENDPOINT": endpoint,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        **extra,
    }
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    return env


@contextlib.asynccontextmanager
async def fleet(count: int, slack: FakeSlack, env: dict[str, str]) -> AsyncIterator[Fleet]:
    """`count` replicas, each answering /healthz, stopped (and their logs shown) at the end."""
    folder = Path(tempfile.mkdtemp(prefix="cdnbot-replicas-"))
    replicas = [Replica(f"replica-{n}", env, folder) for n in range(count)]
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            crew = Fleet(replicas, slack, http)

            async def up(replica: Replica) -> bool:
                assert replica.alive, replica.output()
                try:
                    return (await http.get(f"{replica.url}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            for replica in replicas:
                async with contextlib.aclosing(_polls()) as polls:
                    async for _ in polls:
                        if await up(replica):
                            break
            yield crew
    except BaseException:
        for replica in replicas:
            sys.stderr.write(f"--- {replica.name} ---\n{replica.output()}\n")
        raise
    finally:
        for replica in replicas:
            replica.stop()


def busiest_second(calls: list[Call]) -> int:
    """The most calls that reached the API within any one second."""
    times = sorted(call.at for call in calls)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def fail_one(emulator: Emulator, path: str) -> str:
    """A refresh of `path` that fails a moment later (its path contains /broken/); its task ID."""
    client = CdnClient(
        endpoint=emulator.url, credentials=Credentials(KEY, SECRET), limiter=RateLimiter()
    )
    async with client:
        (task_id,) = (await client.refresh_object_caches([path])).task_ids
    return task_id


def announced_ids(body: dict[str, Any]) -> list[str]:
    """The task IDs a failure notification names: its table's rows, or its one task's line."""
    found = []
    for block in body.get("blocks", []):
        if block["type"] == "table":
            found += [row[0]["text"] for row in block["rows"][1:]]
        elif block["type"] == "context" and block["elements"][0]["text"].startswith("Task ID "):
            found.append(block["elements"][0]["text"].removeprefix("Task ID "))
    return found
