"""The command line: `python -m bot emulator` and `python -m bot` as an operator starts them."""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.limiter import RateLimiter
from bot.core.tasks import ObjectType, Status, TaskListRequest
from tests.conftest import wait_until
from tests.environment import clean_environ

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]


class Running:
    """A `python -m bot` process whose output lines are collected by a reader thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        env = env or {}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            # In its own folder, so the default database file lands there and not in the repo.
            cwd=env.get("HOME"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_environ({"PYTHONPATH": str(ROOT), **env}),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, needle: str, *, limit: float = 30) -> str:
        """The first new output line containing `needle`; fails if the output ends first."""
        deadline = time.monotonic() + limit
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)  # the end stays visible to finish()
                break
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} never appeared; output was:\n{''.join(self.seen)}")

    def finish(self, *, timeout: float = 30) -> tuple[int, str]:
        """Wait for the process to exit by itself; its status and whole output."""
        status = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        while (line := self.lines.get()) is not None:
            self.seen.append(line)
        self.process.stdout.close()
        return status, "".join(self.seen)

    def stop(self) -> None:
        self.process.terminate()
        self.finish(timeout=10)


async def test_emulator_command_serves_the_api_with_its_flags():
    bot = Running(
        "emulator",
        "--port",
        "0",
        "--access-key-id",
        "ak",
        "--access-key-secret",
        "sk",
        "--seed",
        "50",
        "--task-seconds",
        "0",
        "--fail-pattern",
        "broken",
        "--qps",
        "5",
    )
    try:
        line = bot.wait_for("listening on")
        url = line.split("listening on ", 1)[1].split()[0]
        cdn = CdnClient(
            endpoint=url, credentials=Credentials("ak", "sk"), limiter=RateLimiter(default_rate=5)
        )
        async with cdn:
            page = await cdn.describe_refresh_tasks(TaskListRequest(page_size=100))
            assert page.total_count == 50
            await cdn.refresh_object_caches(["https://x.example.com/broken.js"])
            failed = await cdn.describe_refresh_tasks(
                TaskListRequest(
                    object_type=ObjectType.FILE, status=Status.FAILED, domain_name="x.example.com"
                )
            )
            assert failed.total_count == 1
    finally:
        bot.stop()


def test_bot_without_credentials_uses_the_embedded_emulator(tmp_path):
    bot = Running(env={"HOME": str(tmp_path)})
    try:
        bot.wait_for("built-in CDN emulator")
        bot.wait_for("CDN API reachable: 400 tasks")
    finally:
        bot.stop()


async def test_playground_serves_while_the_cdn_is_unreachable(tmp_path):
    port = free_port()
    bot = Running(
        env={
            "HOME": str(tmp_path),
            "PORT": str(port),
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret-value-123",
            "CDN_ENDPOINT": f"http://127.0.0.1:{free_port()}",
            "CDN_MAX_RETRIES": "0",
        }
    )
    try:
        await asyncio.to_thread(bot.wait_for, "to try the bot")
        await asyncio.to_thread(bot.wait_for, "cannot reach the Alibaba Cloud CDN API")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert await cdn_state(http) == "unreachable"
    finally:
        await asyncio.to_thread(bot.stop)
    assert "secret-value-123" not in "".join(bot.seen)


def test_a_playground_for_other_machines_must_be_asked_for(tmp_path):
    env = {"HOME": str(tmp_path), "PORT": str(free_port()), "PLAYGROUND_HOST": "0.0.0.0"}
    status, output = Running(env=env).finish()
    assert status == 1 and "PLAYGROUND_HOST" in output and "PLAYGROUND_PUBLIC" in output
    assert "Traceback" not in output and "to try the bot" not in output


async def test_a_public_playground_says_loudly_who_can_reach_it(tmp_path):
    port = free_port()
    env = {"HOME": str(tmp_path), "PORT": str(port), "PLAYGROUND_HOST": "0.0.0.0"}
    bot = Running(env={**env, "PLAYGROUND_PUBLIC": "true"})
    try:
        await asyncio.to_thread(bot.wait_for, "answers ANYONE who can reach")
        line = await asyncio.to_thread(bot.wait_for, "Local playground")
        assert "this machine only" not in line
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            page = (await http.get("/")).text
    finally:
        await asyncio.to_thread(bot.stop)
    assert "Local playground, not Slack" in page and "this machine only" not in page


def test_half_configured_credentials_fail_clearly(tmp_path):
    status, output = Running(
        env={"HOME": str(tmp_path), "ALIBABA_CLOUD_ACCESS_KEY_ID": "id"}
    ).finish()
    assert status == 1
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in output


def test_emulator_help_lists_the_contract_flags():
    output = subprocess.run(
        [sys.executable, "-m", "bot", "emulator", "--help"],
        env=clean_environ(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in (
        "--host",
        "--port",
        "--access-key-id",
        "--access-key-secret",
        "--qps",
        "--task-seconds",
        "--fail-pattern",
        "--seed",
    ):
        assert flag in output


def test_bad_setting_names_the_variable(tmp_path):
    status, output = Running(env={"HOME": str(tmp_path), "CDN_QPS": "fast"}).finish()
    assert status == 1
    assert "CDN_QPS" in output and "Traceback" not in output


def test_query_command_prints_a_table_from_the_embedded_emulator(tmp_path):
    status, output = Running(
        "query", "status:failed", "size:5", env={"HOME": str(tmp_path)}
    ).finish()
    assert status == 0, output
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("TASK ID"))
    assert "STATUS" in header and "OBJECT PATH" in header and "REASON" in header
    rows = lines[lines.index(header) + 1 : lines.index(header) + 6]
    assert len(rows) == 5 and all(" Failed " in row for row in rows)
    assert any(line.startswith("5 of ") and "page 1 of" in line for line in lines)


def test_query_command_json_against_a_configured_endpoint(tmp_path):
    emulator = Running(
        "emulator",
        "--port",
        "0",
        "--seed",
        "120",
        "--access-key-id",
        "ak",
        "--access-key-secret",
        "sk",
    )
    try:
        url = emulator.wait_for("listening on").split("listening on ", 1)[1].split()[0]
        env = {
            "HOME": str(tmp_path),
            "CDN_ENDPOINT": url,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "ak",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sk",
        }
        process = subprocess.run(
            [sys.executable, "-m", "bot", "query", "www.example.com page:2 size:3", "--json"],
            capture_output=True,
            text=True,
            env=clean_environ(env),
            timeout=30,
        )
    finally:
        emulator.stop()
    assert process.returncode == 0, process.stderr
    answer = json.loads(process.stdout)
    assert answer["page_number"] == 2 and answer["page_size"] == 3
    assert answer["total_count"] > 3 and len(answer["tasks"]) == 3
    assert all(task["object_path"].split("/")[2] == "www.example.com" for task in answer["tasks"])
    assert "built-in CDN emulator" not in process.stderr


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("statsu:failed", "did you mean `status`"),
        ("since:40d", "since:30d"),  # HISTORY_DAYS: the bot keeps 30 days by default
        ("banana", "not a filter"),
        ("subscribe", "Slack"),
    ],
)
def test_query_command_refuses_bad_filters_clearly(tmp_path, filters, message):
    status, output = Running("query", filters, env={"HOME": str(tmp_path)}).finish()
    assert status == 2
    assert message in output and "Traceback" not in output


def test_query_help_lists_the_filters(tmp_path):
    status, output = Running("query", "help", env={"HOME": str(tmp_path)}).finish()
    assert status == 0 and "status:complete|refreshing|failed|pending" in output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_http_mode_end_to_end(tmp_path):
    from tests.slack.fake_slack import (
        BOT_TOKEN,
        SIGNING_SECRET,
        FakeSlack,
        signed_headers,
        slash_command,
    )

    slack = FakeSlack()
    await slack.start()
    port = free_port()
    bot = Running(
        env={
            "HOME": str(tmp_path),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
        }
    )
    try:
        await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            health = (await http.get("/healthz")).json()
            assert {key: health[key] for key in ("ok", "mode", "cdn")} == {
                "ok": True,
                "mode": "http",
                "cdn": "emulator",
            }
            assert health["cdn_api"]["state"] in ("checking", "ok")
            hook = slack.new_response_url()
            body = slash_command("failed size:3", response_url=hook)
            acked = await http.post("/slack/events", content=body, headers=signed_headers(body))
            assert acked.status_code == 200
            (reply,) = await slack.response_to(hook)
    finally:
        await asyncio.to_thread(bot.stop)
        await slack.stop()
    table = next(block for block in reply["blocks"] if block["type"] == "table")
    assert len(table["rows"]) == 4 and all(
        row[1]["text"] == "❌ Failed" for row in table["rows"][1:]
    )
    assert SIGNING_SECRET not in "".join(bot.seen) and BOT_TOKEN not in "".join(bot.seen)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, "xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "xapp-"),
    ],
)
def test_half_configured_slack_says_what_is_missing(tmp_path, env, named):
    status, output = Running(env={"HOME": str(tmp_path), **env}).finish()
    assert status == 1 and named in output
    assert "built-in CDN emulator" not in output  # refused before anything started


async def test_restarted_process_neither_repeats_nor_loses_notifications(tmp_path, fake_slack):
    from bot.cdn.emulator import Emulator, EmulatorConfig
    from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, signed_headers, slash_command

    emulator = Emulator(
        EmulatorConfig(
            access_key_id="ak", access_key_secret="sk", qps=0, task_seconds=0.2,
            fail_pattern="/broken/",
        )
    )  # fmt: skip
    await emulator.start()
    port = free_port()
    env = {
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "CDN_ENDPOINT": emulator.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "ak",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sk",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "WATCH_INTERVAL": "0.2",
    }

    def mentions(path: str) -> int:
        return sum(path in json.dumps(body) for body in fake_slack.posts_to("C1"))

    cdn = CdnClient(
        endpoint=emulator.url, credentials=Credentials("ak", "sk"), limiter=RateLimiter()
    )
    first = Running(env=env)
    try:
        await asyncio.to_thread(first.wait_for, "Slack HTTP mode listening")
        body = slash_command("subscribe", response_url=fake_slack.new_response_url())
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            answer = await http.post(url, content=body, headers=signed_headers(body))
            assert answer.status_code == 200
        await fake_slack.wait_for(lambda: fake_slack.posts_to("C1"))  # the announcement
        await cdn.refresh_object_caches(["https://a.example.com/broken/one.js"])
        await fake_slack.wait_for(lambda: mentions("broken/one.js"))
    finally:
        await asyncio.to_thread(first.stop)
    # While no bot runs, another task fails.
    await cdn.refresh_object_caches(["https://a.example.com/broken/two.js"])
    second = Running(env=env)
    try:
        await asyncio.to_thread(second.wait_for, "Slack HTTP mode listening")
        await fake_slack.wait_for(lambda: mentions("broken/two.js"))
        seen = len(emulator.calls_of("DescribeRefreshTasks"))
        # Two more whole cycles (five calls each) must pass without repeating anything.
        cycles_passed = lambda: len(emulator.calls_of("DescribeRefreshTasks")) >= seen + 10  # noqa: E731
        await wait_until(cycles_passed)
    finally:
        await asyncio.to_thread(second.stop)
        await cdn.aclose()
        await emulator.stop()
    assert mentions("broken/one.js") == 1 and mentions("broken/two.js") == 1


async def test_secrets_never_reach_logs_health_or_replies(tmp_path, fake_slack):
    """A full run with every secret configured, including a credentials failure."""
    from bot.cdn.emulator import Emulator, EmulatorConfig
    from bot.cdn.emulator.gateway import Account
    from tests.slack.fake_slack import signed_headers, slash_command

    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-SECRET-bot-token-4411",
        "SLACK_SIGNING_SECRET": "SECRET-signing-9c2e",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-ak-secret-77a1",
        "ALIBABA_CLOUD_SECURITY_TOKEN": "SECRET-sts-token-0b9d",
    }
    # The emulator knows the key ID but another secret: every call fails on the signature.
    emulator = Emulator(EmulatorConfig(access_key_id="ak-visible", access_key_secret="other"))
    await emulator.start()
    port = free_port()
    env = {
        "HOME": str(tmp_path),
        "SLACK_API_URL": fake_slack.api_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "CDN_ENDPOINT": emulator.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "ak-visible",
        "CDN_MAX_RETRIES": "0",
        "LOG_LEVEL": "DEBUG",
        **secrets,
    }
    rejected = Running(env=env)
    try:
        await asyncio.to_thread(rejected.wait_for, "credentials were rejected")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            rejected_health = (await http.get("/healthz")).json()
    finally:
        await asyncio.to_thread(rejected.stop)
    assert rejected_health["cdn_api"]["state"] == "rejected"
    try:
        seen = "".join(rejected.seen) + json.dumps(rejected_health)
        # The same configuration but a working emulator key: the bot serves, then meets errors.
        token = secrets["ALIBABA_CLOUD_SECURITY_TOKEN"]
        key = Account("ak-visible", secrets["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], token)
        emulator.gateway._accounts["ak-visible"] = key
        bot = Running(env=env)
        try:
            await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
            # Rotated on the cloud side while the bot runs: its calls start failing.
            emulator.gateway._accounts["ak-visible"] = Account("ak-visible", "rotated", token)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                health = (await http.get("/healthz")).text
                hook = fake_slack.new_response_url()
                body = slash_command("type:file", response_url=hook)
                signed = signed_headers(body, secret=secrets["SLACK_SIGNING_SECRET"])
                await http.post("/slack/events", content=body, headers=signed)
                (reply,) = await fake_slack.response_to(hook)
        finally:
            await asyncio.to_thread(bot.stop)
        seen += "".join(bot.seen) + health + json.dumps(reply)
    finally:
        await emulator.stop()
    assert "credentials were rejected" in reply["text"]
    for name, value in secrets.items():
        assert value not in seen, f"{name} leaked"


def http_bot_env(tmp_path, fake_slack, port: int, endpoint: str) -> dict[str, str]:
    """HTTP mode against `endpoint` with the key ak/sk; one try per call, so failures are quick."""
    from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET

    return {
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "CDN_ENDPOINT": endpoint,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "ak",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sk",
        "CDN_MAX_RETRIES": "0",
    }


async def ask(http: httpx.AsyncClient, fake_slack, text: str) -> dict:
    """Type `/cdn text` in Slack; the bot's reply."""
    from tests.slack.fake_slack import signed_headers, slash_command

    hook = fake_slack.new_response_url()
    body = slash_command(text, response_url=hook)
    acked = await http.post("/slack/events", content=body, headers=signed_headers(body))
    assert acked.status_code == 200
    (reply,) = await fake_slack.response_to(hook)
    return reply


async def cdn_state(http: httpx.AsyncClient) -> str:
    health = await http.get("/healthz")
    assert health.status_code == 200 and health.json()["ok"]  # liveness holds whatever the CDN
    return health.json()["cdn_api"]["state"]


def has_table(reply: dict) -> bool:
    return any(block["type"] == "table" for block in reply.get("blocks", []))


async def test_unreachable_cdn_at_start_serves_words_then_answers_when_back(tmp_path, fake_slack):
    from bot.cdn.emulator import Emulator, EmulatorConfig

    port, cdn_port = free_port(), free_port()
    env = http_bot_env(tmp_path, fake_slack, port, f"http://127.0.0.1:{cdn_port}")
    bot = Running(env=env)
    emulator = Emulator(EmulatorConfig(access_key_id="ak", access_key_secret="sk", seed=30))
    try:
        await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
        await asyncio.to_thread(bot.wait_for, "cannot reach the Alibaba Cloud CDN API")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert await cdn_state(http) == "unreachable"
            assert (await http.get("/readyz")).status_code == 503
            refused = await ask(http, fake_slack, "failed")
            assert "cannot reach the Alibaba Cloud CDN API" in refused["text"]
            await emulator.start(port=cdn_port)  # the outage ends; the same process answers
            answered = await ask(http, fake_slack, "size:5")
            assert has_table(answered), answered
            assert await cdn_state(http) == "ok"
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["cdn_api"]["checked_at"]
    finally:
        await asyncio.to_thread(bot.stop)
        await emulator.stop()
    assert bot.process.returncode in (0, -15) and "Traceback" not in "".join(bot.seen)


async def test_rejected_credentials_serve_words_then_recover_by_themselves(tmp_path, fake_slack):
    from bot.cdn.emulator import Emulator, EmulatorConfig
    from bot.cdn.emulator.gateway import Account

    emulator = Emulator(EmulatorConfig(access_key_id="ak", access_key_secret="other", seed=30))
    await emulator.start()
    port = free_port()
    bot = Running(env=http_bot_env(tmp_path, fake_slack, port, emulator.url))
    try:
        await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_until_async(lambda: cdn_state(http), "rejected")
            reply = await ask(http, fake_slack, "failed")
            assert "credentials were rejected" in reply["text"]
            assert (await http.get("/readyz")).status_code == 503
            # The operator fixes the key on the cloud side: no restart, the re-check notices.
            emulator.gateway._accounts["ak"] = Account("ak", "sk")
            await wait_until_async(lambda: cdn_state(http), "ok", timeout=45)
            assert (await http.get("/readyz")).status_code == 200
            assert has_table(await ask(http, fake_slack, "size:5"))
    finally:
        await asyncio.to_thread(bot.stop)
        await emulator.stop()
    assert "credentials were rejected" in "".join(bot.seen)


async def test_least_privilege_policy_without_the_quota_serves(tmp_path, fake_slack):
    from bot.cdn.emulator import Emulator, EmulatorConfig

    emulator = Emulator(
        EmulatorConfig(
            access_key_id="ak",
            access_key_secret="sk",
            seed=30,
            denied_actions=("DescribeRefreshQuota", "RefreshObjectCaches", "PushObjectCache"),
        )
    )
    await emulator.start()
    port = free_port()
    bot = Running(env=http_bot_env(tmp_path, fake_slack, port, emulator.url))
    try:
        await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
        line = await asyncio.to_thread(bot.wait_for, "CDN API reachable")
        assert "30 tasks" in line and "quota is not readable" in line
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            assert await cdn_state(http) == "ok"
            assert (await http.get("/readyz")).status_code == 200
            assert has_table(await ask(http, fake_slack, "size:5"))
    finally:
        await asyncio.to_thread(bot.stop)
        await emulator.stop()
    assert emulator.calls_of("DescribeRefreshQuota")[0].code == "Forbidden.RAM"


async def wait_until_async(read, expected, *, timeout: float = 20) -> None:
    """Re-read an async value until it equals `expected` (another process's state)."""
    async with asyncio.timeout(timeout):
        while await read() != expected:
            await asyncio.sleep(0.1)


async def test_a_policy_without_the_listing_is_reported_and_worded(tmp_path, fake_slack):
    from bot.cdn.emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(
        access_key_id="ak", access_key_secret="sk", denied_actions=("DescribeRefreshTasks",)
    )
    emulator = Emulator(config)
    await emulator.start()
    port = free_port()
    bot = Running(env=http_bot_env(tmp_path, fake_slack, port, emulator.url))
    try:
        await asyncio.to_thread(bot.wait_for, "Slack HTTP mode listening")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_until_async(lambda: cdn_state(http), "forbidden")
            reply = await ask(http, fake_slack, "size:5")
            assert "cdn:DescribeRefreshTasks" in reply["text"]
            health = (await http.get("/healthz")).json()
            assert "cdn:DescribeRefreshTasks" in health["cdn_api"]["problem"]
    finally:
        await asyncio.to_thread(bot.stop)
        await emulator.stop()
