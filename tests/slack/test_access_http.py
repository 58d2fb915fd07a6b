"""Access control and the audit trail over signed HTTP, buttons included."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from bot.cdn.emulator.ledger import LedgerTask
from bot.core.access import Allow, Policy
from bot.core.query import TaskQuery, encode_query
from bot.core.tasks import ObjectType, Status, Task
from bot.slack import alerts
from bot.slack.render import ActionId
from tests.slack.fake_slack import button_click, slash_command
from tests.slack.test_http_app import buttons_of, command, table_of

OPS = Policy(
    query=Allow(users=frozenset({"U0OPS0001"}), groups=frozenset({"S0ONCALL1"})),
    manage=Allow(users=frozenset({"U0OPS0001"})),
    admin=Allow(users=frozenset({"U0ANA1234"}), closed=True),
    contact="#cdn-admins",
)


@pytest.mark.policy(OPS)
async def test_people_off_the_list_are_refused_politely(running_bot):
    reply = await command(running_bot, "failed")
    assert reply["text"].startswith(":warning: Sorry, you may not query CDN tasks here.")
    assert "Ask #cdn-admins" in reply["text"]
    help_ = await command(running_bot, "help")
    assert "/cdn failed" in json.dumps(help_)  # help is for everyone


@pytest.mark.policy(OPS)
async def test_a_user_group_lets_people_in(running_bot):
    running_bot.slack.groups["S0ONCALL1"] = ["U0ANA1234"]
    assert table_of(await command(running_bot, "failed size:2"))
    refused = await command(running_bot, "subscribe")
    assert "may not manage failure notifications" in refused["text"]


async def click(bot, action, *, user="U0ANA1234"):
    hook = bot.slack.new_response_url()
    await bot.post(button_click(action, response_url=hook, user=user))
    (reply,) = await bot.slack.response_to(hook)
    return reply


@pytest.mark.policy(OPS)
async def test_buttons_are_checked_too(running_bot):
    running_bot.slack.groups["S0ONCALL1"] = ["U0ANA1234"]
    page = await command(running_bot, "failed size:2")
    refused = await click(running_bot, buttons_of(page)[ActionId.NEXT], user="U0STRANGER")
    assert "may not query CDN tasks" in refused["text"]
    assert refused["replace_original"] is False  # the page stays as it was
    mute = {"action_id": ActionId.MUTE.value, "type": "button", "value": "img.example.com"}
    assert "may not manage" in (await click(running_bot, mute))["text"]


@pytest.mark.policy(Policy(scopes={"C1": ("www.example.com",)}))
async def test_a_scoped_channel_sees_only_its_domains(running_bot):
    reply = await command(running_bot, "type:file size:50")
    paths = [row[4]["text"] for row in table_of(reply)]
    assert paths and all(path.split("/")[2] == "www.example.com" for path in paths)
    foreign = await command(running_bot, "img.example.com")
    assert "may not see tasks of img.example.com" in foreign["text"]
    assert "This channel sees `www.example.com`" in foreign["text"]
    tampered = {"action_id": ActionId.NEXT.value, "type": "button", "value": "q1;d=img.example.com"}
    assert "may not see tasks of img.example.com" in (await click(running_bot, tampered))["text"]
    subscribe = await command(running_bot, "subscribe domain:img.example.com")
    assert "may not subscribe to img.example.com" in subscribe["text"]


@pytest.mark.policy(OPS)
async def test_the_audit_trail_records_every_interaction(running_bot, caplog):
    running_bot.slack.groups["S0ONCALL1"] = ["U0ANA1234"]
    with caplog.at_level(logging.INFO, logger="bot.audit"):
        page = await command(running_bot, "failed size:2")
        await click(running_bot, buttons_of(page)[ActionId.REFRESH])
        await command(running_bot, "statsu:failed")
        await click(running_bot, buttons_of(page)[ActionId.NEXT], user="U0STRANGER")
        trail = await command(running_bot, "audit 10")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bot.audit"]
    assert [(line["kind"], line["outcome"]) for line in lines[:4]] == [
        ("command", "ok"),
        ("action", "ok"),
        ("command", "invalid"),
        ("action", "denied"),
    ]
    first = lines[0]
    assert first["user"] == "U0ANA1234" and first["channel"] == "C1" and first["results"] == 2
    assert first["request_ids"] and first["query"].startswith("q1;") and first["latency_ms"] >= 0
    rows = table_of(trail)  # newest first, headings left out
    assert [row[5]["text"] for row in rows[:4]] == ["denied", "invalid", "ok", "ok"]
    assert rows[2][4]["text"] == "Refresh"  # the button's label, not its action_id
    assert rows[0][1]["elements"][0]["elements"][0] == {"type": "user", "user_id": "U0STRANGER"}


async def test_only_admins_read_the_audit_trail(running_bot):
    reply = await command(running_bot, "audit")
    assert "may not read the audit trail" in reply["text"]


QUERIERS_ONLY = Policy(query=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins")


@pytest.mark.policy(QUERIERS_ONLY)
async def test_who_may_not_query_may_not_subscribe_or_mute_either(running_bot, clock):
    # No ACCESS_MANAGE_* list: managing is open, but only to people who may see task data.
    for text in ("subscribe", "unsubscribe all", "subscriptions"):
        reply = await command(running_bot, text)
        assert "may not query CDN tasks" in reply["text"], text
    mute = {"action_id": ActionId.MUTE.value, "type": "button", "value": "img.example.com"}
    assert "may not query CDN tasks" in (await click(running_bot, mute))["text"]
    assert await running_bot.store.subscriptions("C1") == []
    assert running_bot.slack.posts_to("C1") == []
    assert await running_bot.store.muted(clock()) == {}
    allowed = await command_as(running_bot, "subscribe", user="U0OPS0001")
    assert "Subscribed" in allowed["text"]


async def command_as(bot, text, *, user):
    hook = bot.slack.new_response_url()
    await bot.post(slash_command(text, response_url=hook, user=user))
    (reply,) = await bot.slack.response_to(hook)
    return reply


def failing(emulator, clock, path: str, minutes: int) -> Task:
    """A task that failed `minutes` ago, in the emulator and as the watcher would see it."""
    created = clock() - timedelta(minutes=minutes)
    task = LedgerTask(emulator.ledger.next_id(), path, "file", created, 20, "Origin Timeout")
    emulator.ledger.add(task)
    return Task(task.task_id, path, ObjectType.FILE, Status.FAILED, 0, created, "Origin Timeout")


def scoped_to(*patterns: str):
    return pytest.param(
        marks=pytest.mark.policy(Policy(scopes={"C1": patterns})), id="|".join(patterns)
    )


@pytest.mark.parametrize(
    (),
    [
        scoped_to("www.example.com", "img.example.com"),
        scoped_to("*.example.com"),
        scoped_to("www.example.com", "*.example.com"),
    ],
)
async def test_show_failed_tasks_works_in_a_channel_scoped_to_several_domains(
    running_bot, emulator, clock
):
    # The digest this channel would get; the button must answer within the channel's scope.
    tasks = [
        failing(emulator, clock, "https://www.example.com/a.js", 3),
        failing(emulator, clock, "https://img.example.com/b.png", 4),
        failing(emulator, clock, "https://www.example.com/c.css", 5),
    ]
    notice = alerts.failure_notice(tasks, now=clock()).payload()
    show = buttons_of(notice)[ActionId.SHOW_FAILED]
    reply = await click(running_bot, show)
    assert "may not" not in reply["text"]
    assert sorted(row[0]["text"] for row in table_of(reply)) == sorted(t.task_id for t in tasks)


@pytest.mark.policy(Policy(scopes={"C1": ("www.example.com", "img.example.com")}))
async def test_a_tampered_show_button_stays_within_the_scope(running_bot, emulator, clock):
    mine = failing(emulator, clock, "https://www.example.com/a.js", 3)
    other = failing(emulator, clock, "https://static.example.org/secret.js", 4)
    value = encode_query(TaskQuery(task_ids=(mine.task_id, other.task_id), status=Status.FAILED))
    show = {"action_id": ActionId.SHOW_FAILED.value, "type": "button", "value": value}
    reply = await click(running_bot, show)
    assert [row[0]["text"] for row in table_of(reply)] == [mine.task_id]
    assert "static.example.org" not in json.dumps(reply)


async def test_an_audit_line_stays_one_line_whatever_was_typed(running_bot, caplog):
    typed = 'failed\u2028{"kind": "forged"}\u0085x\u2029y\x9b\x7f'
    with caplog.at_level(logging.INFO, logger="bot.audit"):
        await command(running_bot, typed)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "bot.audit"]
    assert len(message.splitlines()) == 1 and message.isprintable()
    assert json.loads(message)["detail"] == typed  # escaped, not lost


async def test_the_audit_trail_forgets_by_age(running_bot, clock):
    await command(running_bot, "failed size:1")
    clock.advance(days=91)
    await command(running_bot, "failed size:2")
    assert [e.detail for e in await running_bot.store.recent_audit(10)] == ["failed size:2"]
