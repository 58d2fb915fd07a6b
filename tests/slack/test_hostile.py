"""Hostile input at the real HTTP endpoint, a failing cloud behind it, and injection everywhere."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cdn.emulator.chaos import FaultPlan
from bot.core.audit import AuditEntry
from bot.core.query import TaskQuery
from bot.core.tasks import ObjectType, Status, Task, TaskPage
from bot.core.watch import Subscription
from bot.slack import alerts
from bot.slack.help import help_reply
from bot.slack.render import ActionId, audit_trail, problem, task_page
from tests.slack import world
from tests.slack.fake_slack import button_click, signed_headers, slash_command
from tests.slack.limits import HOSTILE, assert_inert, check_message
from tests.slack.test_http_app import command, paths_of

pytestmark = pytest.mark.timeout(300)


async def test_commands_get_answers_while_the_cloud_fails(running_bot, emulator):
    emulator.config.faults = FaultPlan(
        rate=0.5, kinds=("5xx", "throttle", "garbage", "truncated", "reset"), seed=11
    )
    replies = [await command(running_bot, f"type:file page:{n}") for n in range(1, 21)]
    kinds = {
        "table" if any(b["type"] == "table" for b in r["blocks"]) else r["text"][:9]
        for r in replies
    }
    assert "table" in kinds
    assert all(r["text"].startswith((":warning:", "Refresh")) for r in replies)
    assert not any("Sorry" in r["text"] for r in replies)
    assert sum(emulator.faults_injected.values()) > 0


# -- fuzzing the real endpoint ---------------------------------------------------------------


@contextmanager
def bot_in_a_thread(database):
    """The bot world served from a loop of its own, so sync code (hypothesis) can drive it."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def serve():
        holder["stop"] = asyncio.Event()
        try:
            async with world.running_bot(database) as bot:
                holder["bot"] = bot
                ready.set()
                await holder["stop"].wait()
        finally:
            ready.set()  # also when it could not start: the error is the thread's

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    try:
        ready.wait(30)
        assert "bot" in holder, "the bot did not start"
        yield holder["bot"], loop
    finally:
        if "stop" in holder:
            loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(30)
        loop.close()


@pytest.fixture
def fuzz_target(tmp_path, caplog):
    with (
        caplog.at_level(logging.WARNING),
        bot_in_a_thread(tmp_path / "bot.db") as (bot, loop),
        httpx.Client(base_url=bot.url, timeout=30) as http,
    ):
        yield bot, loop, http, caplog


def no_errors_logged(caplog):
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


fuzz = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fuzz
@given(text=st.text(max_size=300) | st.text(alphabet="<>&|:=\"'`*_~@!#^ \n\t", max_size=60))
def test_any_command_text_gets_a_clear_reply(fuzz_target, text):
    bot, loop, http, caplog = fuzz_target
    hook = bot.slack.new_response_url()
    body = slash_command(text, response_url=hook)
    assert http.post("/slack/events", content=body, headers=signed_headers(body)).status_code == 200
    (reply,) = asyncio.run_coroutine_threadsafe(bot.slack.response_to(hook), loop).result(30)
    check_message(reply)
    assert_inert(reply)
    assert "Sorry" not in reply["text"]
    no_errors_logged(caplog)


odd_values = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=50),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
PARTS = ["user", "channel", "container", "team"]


@fuzz
@given(
    value=st.text(max_size=2500),
    action_id=st.sampled_from([a.value for a in ActionId]) | st.text(max_size=20),
    drop=st.sets(st.sampled_from(["user", "channel", "response_url", "actions", "container"])),
    oddity=st.dictionaries(
        st.sampled_from(["user", "channel", "container", "team"]), odd_values, max_size=2
    ),
)
def test_any_button_payload_is_refused_cleanly(fuzz_target, value, action_id, drop, oddity):
    bot, _, http, caplog = fuzz_target
    action = {"action_id": action_id, "value": value, "type": "button"}
    form = dict(parse_qsl(button_click(action, response_url=bot.slack.new_response_url()).decode()))
    payload = json.loads(form["payload"])
    for key in drop:
        payload.pop(key, None)
    payload.update(oddity)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    response = http.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code < 500
    no_errors_logged(caplog)


@fuzz
@given(body=st.binary(max_size=2000))
def test_any_bytes_are_refused_with_a_4xx_or_ignored(fuzz_target, body):
    _, _, http, caplog = fuzz_target
    response = http.post("/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code < 500
    no_errors_logged(caplog)


def test_huge_and_non_utf8_bodies(fuzz_target):
    _, _, http, caplog = fuzz_target
    for body in (b"\xff\xfe\xfa" * 1000, b"text=" + b"a" * 1_000_000, b"payload=%FF%FE"):
        response = http.post("/slack/events", content=body, headers=signed_headers(body))
        assert response.status_code < 500
    unsigned = http.post("/slack/events", content=b"text=x")
    assert unsigned.status_code == 401
    no_errors_logged(caplog)


# -- every payload type Slack sends, with fields dropped and mistyped --------------------------

USER = {"id": "U0ANA1234", "username": "ana", "team_id": "T1"}
TEAM = {"id": "T1", "domain": "example"}
VIEW = {
    "id": "V1",
    "type": "modal",
    "callback_id": "cdn_refresh",
    "team_id": "T1",
    "private_metadata": "",
    "state": {"values": {"urls": {"urls": {"type": "plain_text_input", "value": "x"}}}},
}


def templates(response_url):
    """One payload of each kind Slack sends to /slack/events, as Slack shapes it."""
    return {
        "block_actions": {
            "type": "block_actions",
            "user": USER,
            "team": TEAM,
            "channel": {"id": "C1", "name": "ops"},
            "container": {"type": "message", "is_ephemeral": True, "channel_id": "C1"},
            "trigger_id": "1.2.3",
            "response_url": response_url,
            "actions": [{"action_id": ActionId.NEXT.value, "block_id": "b1", "value": "q1"}],
        },
        "view_submission": {
            "type": "view_submission",
            "user": USER,
            "team": TEAM,
            "view": VIEW,
            "trigger_id": "1.2.3",
            "response_urls": [{"block_id": "b", "action_id": "a", "response_url": response_url}],
        },
        "view_closed": {"type": "view_closed", "user": USER, "team": TEAM, "view": VIEW},
        "shortcut": {
            "type": "shortcut",
            "callback_id": "cdn_open",
            "trigger_id": "1.2.3",
            "user": USER,
            "team": TEAM,
        },
        "message_action": {
            "type": "message_action",
            "callback_id": "cdn_check_links",
            "trigger_id": "1.2.3",
            "response_url": response_url,
            "user": USER,
            "team": TEAM,
            "channel": {"id": "C1", "name": "ops"},
            "message": {"type": "message", "user": "U2", "text": "https://x.example/a.js"},
        },
        "block_suggestion": {
            "type": "block_suggestion",
            "action_id": "domain",
            "block_id": "b1",
            "value": "exa",
            "user": USER,
            "team": TEAM,
            "view": VIEW,
        },
        "event_callback": {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {"type": "app_home_opened", "user": "U0ANA1234", "tab": "home"},
            "event_id": "Ev1",
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        },
        "slash_command": {
            "command": "/cdn",
            "text": "failed",
            "user_id": "U0ANA1234",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        },
    }


def encoded(kind, payload):
    """The body as Slack sends that kind: a form, a form with payload=, or JSON."""
    if kind == "event_callback":
        return json.dumps(payload).encode(), "application/json"
    if kind == "slash_command":
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


FIELD_NAMES = sorted({key for t in templates("").values() for key in t})
INNER = ["event", "view", "message", "user", "team", "channel", "container", "authorizations"]
INNER_NAMES = ["type", "id", "user", "callback_id", "team_id", "channel", "state", "text"]


@st.composite
def odd_payloads(draw):
    """A payload of any kind with some fields dropped and others of unexpected types."""
    kind = draw(st.sampled_from(sorted(templates(""))))
    return kind, draw(st.data()), draw(st.sets(st.sampled_from(FIELD_NAMES), max_size=3))


def oddly_shaped(kind, data, drop, response_url):
    payload = templates(response_url)[kind]
    for key in drop:
        payload.pop(key, None)
    payload.update(data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), odd_values, max_size=2)))
    inside = data.draw(st.sampled_from(INNER))
    if isinstance(payload.get(inside), dict):
        odd = st.dictionaries(st.sampled_from(INNER_NAMES), odd_values, max_size=2)
        payload[inside] = {**payload[inside], **data.draw(odd)}
    return encoded(kind, payload)


def settled(loop):
    """Wait until what Bolt started for the requests so far has finished."""

    async def wait():
        running = [
            task
            for task in asyncio.all_tasks()
            if "slack_bolt" in getattr(task.get_coro(), "cr_code", wait.__code__).co_filename
        ]
        if running:
            await asyncio.wait(running, timeout=20)

    asyncio.run_coroutine_threadsafe(wait(), loop).result(30)


@fuzz
@given(case=odd_payloads())
def test_any_payload_type_with_odd_fields_gets_no_500(fuzz_target, case):
    bot, loop, http, caplog = fuzz_target
    kind, data, drop = case
    foreign = data.draw(st.booleans())
    hook = "http://127.0.0.1:9/foreign" if foreign else bot.slack.new_response_url()
    body, content_type = oddly_shaped(kind, data, drop, hook)
    headers = {**signed_headers(body), "Content-Type": content_type}
    response = http.post("/slack/events", content=body, headers=headers)
    assert response.status_code < 500, (kind, response.text)
    settled(loop)
    no_errors_logged(caplog)
    if foreign:
        refused = [r for r in caplog.records if "127.0.0.1:9" in r.getMessage()]
        assert all("refused to reply" in r.getMessage() for r in refused)


@fuzz
@given(
    case=odd_payloads(),
    headers=st.sampled_from(
        [
            {},
            {"X-Slack-Request-Timestamp": "x"},
            {"X-Slack-Request-Timestamp": "x", "X-Slack-Signature": "v0=" + "0" * 64},
            {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
            {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0="},
        ]
    )
    | st.just(None),
)
def test_no_unsigned_payload_reaches_any_url(fuzz_target, case, headers):
    bot, loop, http, caplog = fuzz_target
    kind, data, drop = case
    hook = bot.slack.new_response_url()  # an allowed host: only the signature stands between
    body, content_type = oddly_shaped(kind, data, drop, hook)
    if headers is None:  # signed, but with another secret
        headers = signed_headers(body, secret="not-the-signing-secret")
    response = http.post(
        "/slack/events", content=body, headers={**headers, "Content-Type": content_type}
    )
    assert response.status_code == 401
    settled(loop)
    assert not bot.slack.responses and not bot.slack.api_calls
    no_errors_logged(caplog)


# -- injection, every surface ----------------------------------------------------------------


def failed(task_id, path, kind, created, description):
    return Task(
        task_id=task_id,
        object_path=path,
        object_type=kind,
        status=Status.FAILED,
        progress=0,
        created=created,
        description=description,
    )


def test_hostile_strings_render_literally_on_every_surface():
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    for hostile in HOSTILE:
        path = f"https://evil.example.com/{hostile}/x.js"
        task = failed("1", path, ObjectType.FILE, now - timedelta(minutes=1), hostile)
        other = failed("2", path + "2", hostile, now - timedelta(minutes=2), "Origin Timeout")
        page = task_page(TaskPage((task, other), 1, 20, 2), TaskQuery(object_path=path), age=0)
        surfaces = [
            page,
            alerts.failure_notice([task], now=now),
            alerts.failure_notice([task, other], now=now),
            alerts.subscriptions_list([Subscription("C1", hostile, None, hostile, now, hostile)]),
            alerts.cannot_post(hostile),
            alerts.muted(hostile, now),
            problem(f"`status: {hostile}` — did you mean `failed`?"),
            help_reply(unknown=hostile),
            help_reply(topic=hostile),
            audit_trail([AuditEntry(now, hostile, hostile, "command", hostile, outcome=hostile)]),
        ]
        for reply in surfaces:
            payload = reply.payload()
            check_message(payload)
            assert_inert(payload)
        assert paths_of(page.payload())[0] == path  # cells are literal text, not mrkdwn


# -- signed, but not shaped as Slack shapes it -------------------------------------------------


def interaction(**fields):
    """A block_actions payload as Slack sends it, with `fields` replaced (None drops one)."""
    action = {"action_id": ActionId.NEXT.value, "value": "q1", "type": "button"}
    form = dict(parse_qsl(button_click(action, response_url="https://hooks.slack.com/x").decode()))
    payload = json.loads(form["payload"])
    for key, value in fields.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return urlencode({"payload": json.dumps(payload)}).encode()


ODD_BODIES = {
    "no actions": interaction(actions=[]),
    "action without action_id": interaction(actions=[{"type": "button", "value": "x"}]),
    "actions is a string": interaction(actions="xx"),
    "actions holds a string": interaction(actions=["xx"]),
    "event is a list": json.dumps({"type": "event_callback", "event": [1]}).encode(),
    "event type is a list": json.dumps({"type": "event_callback", "event": {"type": [1]}}).encode(),
    "response_url is a number": interaction(response_url=12),
    "response_url is a list": interaction(response_url=["https://hooks.slack.com/x"]),
    "command response_url is empty": slash_command("failed", response_url=""),
    "type is a list": interaction(type=["block_actions"]),
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=ODD_BODIES.keys())
async def test_odd_signed_payloads_are_refused_without_a_traceback(running_bot, caplog, body):
    with caplog.at_level(logging.DEBUG):
        before = asyncio.all_tasks()
        response = await running_bot.post(body)
        assert response.status_code < 500, response.text
        await finished(asyncio.all_tasks() - before)
    troubles = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not troubles, [r.getMessage() for r in troubles]
    assert not running_bot.slack.responses


async def finished(tasks):
    """Wait for what Bolt and our listeners started for a request (not the server's own)."""
    ours = [t for t in tasks if "slack_bolt" in t.get_coro().cr_code.co_filename]
    ours += [t for t in tasks if "/bot/" in t.get_coro().cr_code.co_filename]
    if ours:
        await asyncio.wait(ours, timeout=10)
