"""Hostile input at the real HTTP endpoint, a failing cloud behind it, and injection everywhere."""

from __future__ import annotations

import asyncio
import contextlib
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
from tests.slack.fake_slack import button_click, signed_headers, slash_command
from tests.slack.limits import HOSTILE, assert_inert, check_message
from tests.slack.test_http_app import command

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
def bot_in_a_thread(request):
    """The running_bot fixture's world, served from a loop of its own so sync code can drive it."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def serve():
        from bot.cdn.emulator import Emulator
        from tests.conftest import Clock, emulator_config
        from tests.slack.conftest import running_bot as make  # the fixture's generator
        from tests.slack.fake_slack import FakeSlack

        clock = Clock(datetime.now(UTC).replace(microsecond=0))
        emulator = Emulator(emulator_config(clock))
        await emulator.start()
        slack = FakeSlack()
        await slack.start()
        tmp_path = request.getfixturevalue("tmp_path")
        generator = make.__wrapped__(emulator, clock, slack, tmp_path, None)
        holder["bot"] = await generator.__anext__()
        holder["stop"] = asyncio.Event()
        ready.set()
        await holder["stop"].wait()
        # Let replies still on their way (Bolt runs listeners as tasks) finish first.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=10)
        # Resume it the way pytest finishes a fixture, so its teardown code runs.
        with contextlib.suppress(StopAsyncIteration):
            await generator.__anext__()
        await slack.stop()
        await emulator.stop()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield holder["bot"], loop
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(30)
        loop.close()


@pytest.fixture
def fuzz_target(request, caplog):
    with (
        caplog.at_level(logging.WARNING),
        bot_in_a_thread(request) as (bot, loop),
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
        table = next(b for b in page.payload()["blocks"] if b["type"] == "table")
        assert table["rows"][1][4]["text"] == path  # cells are literal text, not mrkdwn


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
