"""Workflow Builder steps over signed HTTP: a function_executed event runs `cdn_refresh_urls`
or `cdn_task_status`, which ends with functions.completeSuccess (its outputs) or
functions.completeError (words naming what to change), with the run's own token, audited,
and done once however often Slack delivers it."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest

from bot.cdn.emulator.faults import ApiFault
from bot.cdn.emulator.ledger import LedgerTask
from bot.core.access import Allow, Policy
from bot.core.steps import REFRESH_STEP, STATUS_STEP
from tests.slack import world
from tests.slack.fake_slack import function_executed, signed_headers

USER = "U0ANA1234"
URLS = "https://www.example.com/release/app.js\nhttps://www.example.com/release/app.css"


async def ended(slack, count=1):
    """The functions.complete* calls, once `count` have come."""

    def calls():
        found = [
            (name, body)
            for name, body in slack.api_calls
            if name in ("functions.completeSuccess", "functions.completeError")
        ]
        return found if len(found) >= count else None

    return await slack.wait_for(calls)


async def run(bot, callback_id, inputs, *, execution_id="Fx1"):
    body = function_executed(callback_id, inputs, execution_id=execution_id)
    assert (await bot.post(body)).status_code == 200
    ((name, call),) = await ended(bot.slack)
    assert call["function_execution_id"] == execution_id
    if "outputs" in call:  # sent as a form field holding JSON
        call = {**call, "outputs": json.loads(call["outputs"])}
    return name, call


async def test_refresh_urls_submits_and_outputs_the_task_ids(running_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.audit")
    bot = running_bot
    name, call = await run(bot, REFRESH_STEP, {"urls": URLS, "requested_by": USER})
    assert name == "functions.completeSuccess"
    (refresh,) = bot.emulator.calls_of("RefreshObjectCaches")
    assert refresh.params["ObjectPath"].split("\n") == URLS.split("\n")
    assert refresh.params["ObjectType"] == "File"
    outputs = call["outputs"]
    assert outputs["submitted"] == 2 and len(outputs["task_ids"].split(",")) == 2
    # Ended with the run's own just-in-time token, not the bot's.
    assert ("functions.completeSuccess", "xwfp-just-in-time") in bot.slack.tokens
    (entry,) = await bot.store.recent_audit(1)
    assert (entry.kind, entry.user, entry.outcome) == ("workflow", USER, "ok")
    assert entry.detail.startswith("cdn_refresh_urls: refresh File x2")
    assert entry.results == 2
    (line,) = [json.loads(r.message) for r in caplog.records if r.name == "bot.audit"]
    assert line["extra"]["execution"] == "Fx1" and line["kind"] == "workflow"
    assert line["extra"]["task_ids"] == call["outputs"]["task_ids"]


async def test_a_directory_refresh_with_force(running_bot):
    inputs = {
        "urls": "https://www.example.com/static/",
        "object_type": "dir",
        "force": True,
        "requested_by": USER,
    }
    name, _ = await run(running_bot, REFRESH_STEP, inputs)
    assert name == "functions.completeSuccess"
    (refresh,) = running_bot.emulator.calls_of("RefreshObjectCaches")
    assert (refresh.params["ObjectType"], refresh.params["Force"]) == ("Directory", "true")


async def test_a_run_slack_delivers_twice_submits_once(emulator, clock, fake_slack, tmp_path):
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        inputs = {"urls": URLS, "requested_by": USER}
        first = function_executed(REFRESH_STEP, inputs, execution_id="Fx7", event_id="Ev1")
        await bot.post(first)
        await ended(fake_slack)
        # The same delivery again (a retry), and the same run under a new event ID.
        retry = {**signed_headers(first), "X-Slack-Retry-Num": "1"}
        await bot.http.post(f"{bot.url}/slack/events", content=first, headers=retry)
        again = function_executed(REFRESH_STEP, inputs, execution_id="Fx7", event_id="Ev2")
        await bot.post(again)
    assert len(emulator.calls_of("RefreshObjectCaches")) == 1
    assert len(fake_slack.calls_of("functions.completeSuccess")) == 1


async def test_a_run_delivered_to_two_replicas_submits_once(emulator, clock, fake_slack, tmp_path):
    database = tmp_path / "bot.db"
    inputs = {"urls": URLS, "requested_by": USER}
    async with (
        world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as one,
        world.running_bot(database, clock=clock, emulator=emulator, slack=fake_slack) as two,
    ):
        body = function_executed(REFRESH_STEP, inputs, execution_id="Fx8", event_id="Ev1")
        await asyncio.gather(one.post(body), two.post(body))
        await ended(fake_slack)
    assert len(emulator.calls_of("RefreshObjectCaches")) == 1
    assert len(fake_slack.calls_of("functions.completeSuccess")) == 1
    assert not fake_slack.calls_of("functions.completeError")


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"requested_by": USER}, "`urls: ` — give the URLs to refresh, one per line"),
        (
            {"urls": "https://www.example.com/a.js force", "requested_by": USER},
            "`urls: force` — each line must be one http:// or https:// URL",
        ),
        ({"urls": URLS}, "`requested_by: ` — choose the person the refresh is for"),
        ({"urls": URLS, "requested_by": "alice"}, "not a Slack user ID"),
        ({"urls": URLS, "requested_by": USER, "object_type": "folder"}, "`object_type: folder`"),
        (
            {"urls": "https://www.example.com/static/", "requested_by": USER},
            "that is a directory: add object_type `dir`",
        ),
        ({"urls": URLS, "requested_by": USER, "channel": "#ops"}, "not a Slack channel ID"),
    ],
)
async def test_bad_inputs_fail_the_run_with_words_naming_the_input(running_bot, inputs, words):
    name, call = await run(running_bot, REFRESH_STEP, inputs)
    assert name == "functions.completeError"
    assert words in call["error"]
    assert not running_bot.emulator.calls_of("RefreshObjectCaches")
    (entry,) = await running_bot.store.recent_audit(1)
    assert entry.outcome == "invalid" and entry.kind == "workflow"
    assert entry.user == str(inputs.get("requested_by", ""))  # who asked, even if refused


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_requested_by_is_checked_like_a_person(running_bot):
    name, call = await run(running_bot, REFRESH_STEP, {"urls": URLS, "requested_by": USER})
    assert name == "functions.completeError"
    assert "may not refresh or prefetch" in call["error"] and "#cdn-admins" in call["error"]
    assert not running_bot.emulator.calls_of("RefreshObjectCaches")
    (entry,) = await running_bot.store.recent_audit(1)
    assert (entry.user, entry.outcome) == (USER, "denied")


@pytest.mark.policy(
    Policy(
        manage=Allow(channels=frozenset({"C0RELEASE"})),
        scopes={"C0RELEASE": ("img.example.com",)},
        contact="#cdn-admins",
    )
)
async def test_a_channel_lets_in_whom_it_lets_in_and_keeps_its_domains(running_bot):
    bot = running_bot
    # No channel: only the people and groups on the list count, and there are none.
    name, call = await run(bot, REFRESH_STEP, {"urls": URLS, "requested_by": USER})
    assert name == "functions.completeError" and "Without a channel" in call["error"]
    bot.slack.api_calls.clear()
    # In C0RELEASE, as /cdn refresh there: allowed, but only for its domain.
    inputs = {"urls": URLS, "requested_by": USER, "channel": "C0RELEASE"}
    name, call = await run(bot, REFRESH_STEP, inputs, execution_id="Fx2")
    assert name == "functions.completeError" and "img.example.com" in call["error"]
    bot.slack.api_calls.clear()
    inputs["urls"] = "https://img.example.com/logo.png"
    name, _ = await run(bot, REFRESH_STEP, inputs, execution_id="Fx3")
    assert name == "functions.completeSuccess"
    (refresh,) = bot.emulator.calls_of("RefreshObjectCaches")
    assert refresh.params["ObjectPath"] == "https://img.example.com/logo.png"


async def test_not_enough_quota_fails_before_anything_is_sent(running_bot):
    bot = running_bot
    bot.emulator.ledger.consume("Url", 9_999, bot.clock(), code="QuotaExceeded.Refresh")
    name, call = await run(bot, REFRESH_STEP, {"urls": URLS, "requested_by": USER})
    assert name == "functions.completeError"
    assert "needs 2 of today's URL refresh quota, and 1 is left" in call["error"]
    assert not bot.emulator.calls_of("RefreshObjectCaches")


async def test_a_refused_submission_fails_the_run_saying_so(running_bot):
    bot = running_bot
    bot.emulator.script(
        "RefreshObjectCaches", ApiFault(400, "QuotaExceeded.Refresh", "daily limit")
    )
    name, call = await run(bot, REFRESH_STEP, {"urls": URLS, "requested_by": USER})
    assert name == "functions.completeError" and "Nothing was submitted" in call["error"]
    (entry,) = await bot.store.recent_audit(1)
    assert entry.outcome == "failed: QuotaExceeded.Refresh"


def add(emulator, clock, path, *, seconds_ago, failure=None):
    """A task of `path` made `seconds_ago` that takes a minute (and fails with `failure`)."""
    created = clock() - timedelta(seconds=seconds_ago)
    task = LedgerTask(emulator.ledger.next_id(created), path, "file", created, 60, failure)
    emulator.ledger.add(task)
    return task.task_id


async def test_task_status_counts_each_state(running_bot):
    bot = running_bot
    done = add(bot.emulator, bot.clock, "https://www.example.com/done.js", seconds_ago=600)
    broken = add(
        bot.emulator, bot.clock, "https://www.example.com/x.js", seconds_ago=600, failure="x"
    )
    running = add(bot.emulator, bot.clock, "https://www.example.com/run.js", seconds_ago=30)
    inputs = {"task_ids": f"{done},{broken}\n{running}"}
    name, call = await run(bot, STATUS_STEP, inputs)
    assert name == "functions.completeSuccess"
    assert call["outputs"] == {"status": "failed", "complete": 1, "failed": 1, "refreshing": 1}
    assert bot.emulator.calls_of("DescribeRefreshTaskById")
    (entry,) = await bot.store.recent_audit(1)
    assert entry.detail == f"cdn_task_status: {done},{broken},{running}"


async def test_task_status_names_tasks_it_cannot_find(running_bot):
    name, call = await run(running_bot, STATUS_STEP, {"task_ids": "123456789"})
    assert name == "functions.completeError"
    assert "No task 123456789" in call["error"] and "older than the CDN keeps" in call["error"]


@pytest.mark.policy(Policy(query=Allow(users=frozenset({USER}))))
async def test_task_status_under_a_closed_policy_needs_a_person(running_bot):
    bot = running_bot
    task = add(bot.emulator, bot.clock, "https://www.example.com/a.js", seconds_ago=600)
    name, call = await run(bot, STATUS_STEP, {"task_ids": task})
    assert name == "functions.completeError" and "requested_by" in call["error"]
    bot.slack.api_calls.clear()
    inputs = {"task_ids": task, "requested_by": USER}
    name, call = await run(bot, STATUS_STEP, inputs, execution_id="Fx2")
    assert name == "functions.completeSuccess" and call["outputs"]["status"] == "complete"


async def test_a_run_slack_will_not_end_is_logged(emulator, clock, fake_slack, tmp_path, caplog):
    fake_slack.complete_error = "execution_not_in_running_state"
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        await bot.post(function_executed(STATUS_STEP, {"task_ids": "1"}, execution_id="Fx9"))
        await ended(fake_slack)
    assert "could not end cdn_task_status run Fx9" in caplog.text


@pytest.mark.policy(Policy(scopes={"C0RELEASE": ("img.example.com",)}))
async def test_task_status_keeps_to_the_channels_domains_whoever_asks(running_bot):
    bot = running_bot
    task = add(bot.emulator, bot.clock, "https://www.example.com/a.js", seconds_ago=600)
    name, call = await run(bot, STATUS_STEP, {"task_ids": task, "channel": "C0RELEASE"})
    assert name == "functions.completeError"
    assert f"No task {task}" in call["error"] and "outside the domains" in call["error"]


@pytest.mark.policy(
    Policy(
        manage=Allow(users=frozenset({USER})),
        scopes={"C0RELEASE": ("img.example.com",)},
        contact="#cdn-admins",
    )
)
@pytest.mark.parametrize(
    ("step", "inputs"),
    [
        (REFRESH_STEP, {"urls": "https://www.example.com/a.js", "requested_by": USER}),
        (STATUS_STEP, {"task_ids": "704225667", "requested_by": USER}),
    ],
)
async def test_where_channels_keep_to_domains_a_run_must_name_its_channel(
    running_bot, step, inputs
):
    name, call = await run(running_bot, step, inputs)
    assert name == "functions.completeError" and "channel input" in call["error"]
    assert not running_bot.emulator.calls_of("RefreshObjectCaches")
