"""/slack/events checks the signature on the raw bytes first, caps the body, and replies only
to Slack's own hosts: the SSRF an unsigned body could reach, closed end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import web

from bot.slack.app import create_app, web_application
from bot.slack.verify import MAX_BODY, MAX_SKEW, Verifier
from tests.conftest import wait_until
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import SIGNING_SECRET, signed_headers, slash_command

NOW = 1_800_000_000


def signature(body: bytes, stamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{stamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


BODY = b"command=%2Fcdn&text=failed"
GOOD = signature(BODY, str(NOW))


@pytest.mark.parametrize(
    ("timestamp", "sig", "problem"),
    [
        (str(NOW), GOOD, None),
        (str(NOW - MAX_SKEW), signature(BODY, str(NOW - MAX_SKEW)), None),
        (str(NOW - MAX_SKEW - 1), signature(BODY, str(NOW - MAX_SKEW - 1)), "stale"),
        (str(NOW + MAX_SKEW + 1), signature(BODY, str(NOW + MAX_SKEW + 1)), "stale"),
        ("x", GOOD, "malformed X-Slack-Request-Timestamp"),
        ("", GOOD, "malformed X-Slack-Request-Timestamp"),
        (None, GOOD, "malformed X-Slack-Request-Timestamp"),
        (f"+{NOW}", GOOD, "malformed X-Slack-Request-Timestamp"),
        (f" {NOW}", GOOD, "malformed X-Slack-Request-Timestamp"),
        (f"{NOW}.0", GOOD, "malformed X-Slack-Request-Timestamp"),
        ("١٨٠٠٠٠٠٠٠٠", GOOD, "malformed X-Slack-Request-Timestamp"),  # int() would take these
        ("9" * 400, GOOD, "malformed X-Slack-Request-Timestamp"),
        (str(NOW), None, "malformed X-Slack-Signature"),
        (str(NOW), GOOD.upper(), "malformed X-Slack-Signature"),
        (str(NOW), "v1=" + GOOD[3:], "malformed X-Slack-Signature"),
        (str(NOW), "v0=" + "é" * 64, "malformed X-Slack-Signature"),
        (str(NOW), signature(BODY, str(NOW), "another-secret"), "invalid X-Slack-Signature"),
        (str(NOW), signature(BODY + b"&x=1", str(NOW)), "invalid X-Slack-Signature"),
    ],
)
def test_signature_and_timestamp(timestamp, sig, problem):
    verifier = Verifier(SIGNING_SECRET, clock=lambda: NOW)
    found = verifier.problem(BODY, timestamp=timestamp, signature=sig)
    assert found == problem if problem is None else problem in found


class Bystander:
    """A local HTTP server no reply should ever reach; it records whatever does."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _record(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, await request.read()))
        return web.Response(text="ok")

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


@pytest.fixture
async def bystander() -> AsyncIterator[Bystander]:
    server = Bystander()
    await server.start()
    yield server
    await server.stop()


async def test_unsigned_request_with_a_bad_timestamp_calls_no_url(running_bot, bystander, caplog):
    marker = "unsigned-marker-7f3a"
    for hook in (bystander.url + "/hook", running_bot.slack.new_response_url()):
        body = slash_command(f"failed {marker}", response_url=hook)
        with caplog.at_level(logging.DEBUG):
            response = await running_bot.http.post(
                f"{running_bot.url}/slack/events",
                content=body,
                headers={
                    "X-Slack-Request-Timestamp": "x",
                    "X-Slack-Signature": "v0=" + "0" * 64,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        assert response.status_code == 401
        assert len(response.text) < 80 and marker not in response.text
    assert not bystander.requests and not running_bot.slack.responses
    assert not running_bot.slack.api_calls
    assert not any(marker in record.getMessage() for record in caplog.records)


async def test_unverified_bodies_are_never_logged(running_bot, caplog):
    marker = "forged-body-marker-91c2"
    body = slash_command(marker, response_url=running_bot.slack.new_response_url())
    with caplog.at_level(logging.DEBUG):
        forged = await running_bot.post(body, secret="not-the-secret")
        stale = await running_bot.post(body, at=time.time() - MAX_SKEW - 60)
        unsigned = await running_bot.http.post(f"{running_bot.url}/slack/events", content=body)
    assert {forged.status_code, stale.status_code, unsigned.status_code} == {401}
    assert not any(marker in record.getMessage() for record in caplog.records)


def test_bolts_own_rejection_log_is_quiet(fake_slack, caplog):
    create_app(slack_settings(fake_slack), services=None)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("slack_bolt.AsyncRequestVerification").info("body: secret stuff")
    assert not caplog.records


async def test_the_timestamp_is_checked_against_the_injected_clock(fake_slack):
    app = create_app(slack_settings(fake_slack), services=None)  # type: ignore[arg-type]

    async def health():
        return {"ok": True}

    ahead = time.time() + MAX_SKEW + 60
    runner = web.AppRunner(web_application(app, health, clock=lambda: ahead))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            body = slash_command("failed", response_url=fake_slack.new_response_url())
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
            response = await http.post(url, content=body, headers=signed_headers(body))
        assert response.status_code == 401 and "stale" in response.text
    finally:
        await runner.cleanup()


async def test_bodies_past_the_cap_are_refused_before_being_read(running_bot):
    big = b"text=" + b"a" * MAX_BODY
    declared = await running_bot.post(big)
    assert declared.status_code == 413

    async def chunks():
        for _ in range(MAX_BODY // 65536):
            yield b"a" * 65536
        yield b"a"  # one byte past the cap

    # No Content-Length: the cap applies while reading. The signature cannot be known ahead.
    chunked = await running_bot.http.post(
        f"{running_bot.url}/slack/events",
        content=chunks(),
        headers=signed_headers(b"", at=time.time()),
    )
    assert chunked.status_code == 413
    assert not running_bot.slack.responses


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
async def test_deeply_nested_json_is_a_400(running_bot, caplog, depth):
    click = {"type": "block_actions", "deep": "__DEEP__"}
    payload = json.dumps(click).replace('"__DEEP__"', nested(depth))
    form = urlencode({"payload": payload}).encode()
    event = json.dumps({"type": "event_callback", "event": {"type": "x", "deep": "__DEEP__"}})
    event_body = event.replace('"__DEEP__"', nested(depth)).encode()
    with caplog.at_level(logging.WARNING):
        as_form = await running_bot.post(form)
        as_json = await running_bot.post(event_body)
    assert as_form.status_code == 400 and "nested too deeply" in as_form.text
    assert as_json.status_code == 400 and "nested too deeply" in as_json.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_replies_never_go_to_a_foreign_host(running_bot, bystander, caplog):
    hooks = [bystander.url + "/hook", "http://evil.example/hook", "https://hooks.slack.com@evil/"]
    with caplog.at_level(logging.WARNING):
        for hook in hooks:
            response = await running_bot.post(slash_command("failed size:2", response_url=hook))
            assert response.status_code == 200
        await wait_until(
            lambda: sum("refused to reply" in r.getMessage() for r in caplog.records) == 3
        )
    assert not bystander.requests


async def test_a_redirect_from_slack_is_not_followed(running_bot, bystander, caplog):
    running_bot.slack.respond_redirect = bystander.url + "/stolen"
    hook = running_bot.slack.new_response_url()
    with caplog.at_level(logging.WARNING):
        await running_bot.post(slash_command("failed size:2", response_url=hook))
        await running_bot.slack.response_to(hook)
        await wait_until(lambda: any("HTTP 307" in r.getMessage() for r in caplog.records))
    assert not bystander.requests
