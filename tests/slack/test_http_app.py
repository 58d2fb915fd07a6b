"""End to end over HTTP: signed slash commands and button clicks, replies caught at a fake Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import partial

import pytest

from bot.cdn.emulator.faults import ApiFault
from bot.core.query import decode_query
from bot.slack.admission import Admission
from bot.slack.render import ActionId
from tests.conftest import wait_until
from tests.slack.fake_slack import button_click, slash_command
from tests.slack.limits import assert_inert, check_message

dumps = partial(json.dumps, ensure_ascii=False)


def buttons_of(payload):
    actions = [block for block in payload["blocks"] if block["type"] == "actions"]
    return {element["action_id"]: element for element in actions[0]["elements"]} if actions else {}


def table_of(payload):
    tables = [block for block in payload["blocks"] if block["type"] == "table"]
    return tables[0]["rows"][1:] if tables else []


def paths_of(payload):
    """The Object path column, wherever the table puts it (failed-only tables lead with Reason)."""
    (table,) = [block for block in payload["blocks"] if block["type"] == "table"]
    headings = [cell["text"] for cell in table["rows"][0]]
    column = headings.index("Object path")
    return [row[column]["text"] for row in table["rows"][1:]]


async def command(bot, text):
    hook = bot.slack.new_response_url()
    response = await bot.post(slash_command(text, response_url=hook))
    assert response.status_code == 200 and response.text == ""
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    assert_inert(reply)
    return reply


async def click(bot, button, *, user="U0ANA1234"):
    hook = bot.slack.new_response_url()
    action = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    response = await bot.post(button_click(action, response_url=hook, user=user))
    assert response.status_code == 200
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    return reply


async def test_slash_command_answers_with_a_table(running_bot, emulator):
    reply = await command(running_bot, "failed size:5")
    assert reply["response_type"] == "ephemeral"
    rows = table_of(reply)
    assert 1 <= len(rows) <= 5
    assert all(row[1]["text"] == "❌ Failed" for row in rows)
    assert reply["blocks"][0]["text"]["text"] == "Failed tasks"
    assert set(buttons_of(reply)) >= {ActionId.NEXT, ActionId.REFRESH, ActionId.SHARE}
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 3  # one per fanned-out type


async def test_ack_comes_before_any_slow_work(running_bot):
    running_bot.slack.users_info_gate = asyncio.Event()
    hook = running_bot.slack.new_response_url()
    started = time.perf_counter()
    response = await running_bot.post(slash_command("failed", response_url=hook))
    acked = time.perf_counter() - started
    assert response.status_code == 200 and acked < 3
    assert not running_bot.slack.responses  # still blocked behind users.info, yet acked
    running_bot.slack.users_info_gate.set()
    (reply,) = await running_bot.slack.response_to(hook)
    assert table_of(reply)


async def test_paging_replaces_the_message(running_bot):
    first = await command(running_bot, "size:4")
    assert ActionId.PREV not in buttons_of(first)
    second = await click(running_bot, buttons_of(first)[ActionId.NEXT])
    assert second["replace_original"] is True
    assert "Page 2 of" in dumps(second)
    ids_1 = [row[0]["text"] for row in table_of(first)]
    ids_2 = [row[0]["text"] for row in table_of(second)]
    assert ids_1 and ids_2 and not set(ids_1) & set(ids_2)
    back = await click(running_bot, buttons_of(second)[ActionId.PREV])
    assert [row[0]["text"] for row in table_of(back)] == ids_1


async def test_refresh_bypasses_the_cache(running_bot, emulator):
    first = await command(running_bot, "type:file size:3")
    calls = len(emulator.calls_of("DescribeRefreshTasks"))
    again = await command(running_bot, "type:file size:3")
    assert len(emulator.calls_of("DescribeRefreshTasks")) == calls  # answered from the cache
    assert "cached" in dumps(again)
    refreshed = await click(running_bot, buttons_of(first)[ActionId.REFRESH])
    assert len(emulator.calls_of("DescribeRefreshTasks")) == calls + 1
    assert "· live" in dumps(refreshed) and refreshed["replace_original"] is True


async def test_share_posts_in_channel_and_keeps_the_private_copy(running_bot):
    first = await command(running_bot, "size:3")
    shared = await click(running_bot, buttons_of(first)[ActionId.SHARE], user="U0ANA1234")
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    assert "shared by <@U0ANA1234>" in dumps(shared)
    assert not buttons_of(shared)
    assert [r[0]["text"] for r in table_of(shared)] == [r[0]["text"] for r in table_of(first)]


def updated_at(payload):
    (context,) = [b for b in payload["blocks"] if b["type"] == "context"][-1:]
    return context["elements"][0]["text"].split("updated <!date^", 1)[1].split("^", 1)[0]


async def test_each_refresh_says_when_the_page_was_fetched(running_bot):
    first = await command(running_bot, "size:3")
    running_bot.clock.advance(seconds=30)
    refreshed = await click(running_bot, buttons_of(first)[ActionId.REFRESH])
    running_bot.clock.advance(seconds=30)
    again = await click(running_bot, buttons_of(refreshed)[ActionId.REFRESH])
    assert int(updated_at(again)) - int(updated_at(refreshed)) == 30
    assert "{time_secs}" in dumps(again)
    shared = await click(running_bot, buttons_of(again)[ActionId.SHARE])
    as_of = dumps(shared).split("as of <!date^", 1)[1].split("^", 1)[0]
    assert 0 <= int(updated_at(again)) - int(as_of) <= 1  # the cached copy's own fetch time
    assert "live" not in dumps(shared) and "Page 1 of" not in dumps(shared)


@pytest.mark.admission(Admission(feedback_after=0.05))
async def test_a_slow_answer_is_preceded_by_a_placeholder_it_replaces(running_bot):
    slack = running_bot.slack
    slack.users_info_gate = asyncio.Event()
    hook = slack.new_response_url()
    await running_bot.post(slash_command("failed", response_url=hook))
    (placeholder,) = await slack.response_to(hook)  # while the answer is still held back
    assert "Looking up" in placeholder["text"] and placeholder["response_type"] == "ephemeral"
    slack.users_info_gate.set()
    placeholder, answer = await slack.response_to(hook, count=2)
    assert table_of(answer) and answer["replace_original"] is True


@pytest.mark.admission(Admission())
async def test_an_answer_ready_at_once_gets_no_placeholder(running_bot):
    await command(running_bot, "type:file size:3")  # fills the cache
    hook = running_bot.slack.new_response_url()
    await running_bot.post(slash_command("type:file size:3", response_url=hook))
    (reply,) = await running_bot.slack.response_to(hook)  # the answer came first, and alone
    assert table_of(reply) and "cached" in dumps(reply)
    assert "replace_original" not in reply or reply["replace_original"] is False


@pytest.mark.admission(Admission(deadline=0.3, feedback_after=0.05))
async def test_the_deadline_answer_replaces_the_placeholder(running_bot):
    slack = running_bot.slack
    gate = slack.users_info_gate = asyncio.Event()
    hook = slack.new_response_url()
    try:
        await running_bot.post(slash_command("failed", response_url=hook))
        placeholder, late = await slack.response_to(hook, count=2)
    finally:
        gate.set()
    assert "Looking up" in placeholder["text"]
    assert "within 0.3 seconds" in late["text"] and late["replace_original"] is True


async def test_help_for_empty_and_unknown_input(running_bot):
    empty = await command(running_bot, "")
    assert "/cdn failed" in dumps(empty)
    unknown = await command(running_bot, "banana")
    assert "I don't know `banana`" in dumps(unknown)
    assert len(unknown["blocks"]) == 1 and "`/cdn failed`" in unknown["text"]


async def test_natural_phrasings_are_answered_with_the_command_to_copy(running_bot):
    for typed, fix in [
        ("www.example.com/app.js", "`/cdn url:https://www.example.com/app.js`"),
        ("failed last 2h", "`/cdn failed since:2h`"),
        ("status:failed,refreshing", "`/cdn status:failed`"),
        ("www.example.com, img.example.com", "`/cdn www.example.com`"),
        ("since:2h until:5h", "`since:5h until:2h`"),
    ]:
        reply = await command(running_bot, typed)
        assert reply["response_type"] == "ephemeral"
        assert fix in reply["text"], typed
    long = await command(running_bot, "failed " + "x" * 3000)
    assert len(long["text"]) < 500 and long["text"].count("`") % 2 == 0


async def test_a_page_past_the_end_is_not_called_page_99(running_bot):
    first = await command(running_bot, "size:4")
    pages = int(dumps(first).split("Page 1 of ", 1)[1].split(" ", 1)[0])
    past = await command(running_bot, f"size:4 page:{pages + 5}")
    assert f"Page {pages + 5} of" not in dumps(past) and "past the end" in dumps(past)
    assert list(buttons_of(past)) == [ActionId.PREV]
    last = await click(running_bot, buttons_of(past)[ActionId.PREV])
    assert f"Page {pages} of {pages}" in dumps(last)


async def test_bad_filters_get_a_clear_ephemeral_error(running_bot):
    reply = await command(running_bot, "statsu:failed")
    assert reply["response_type"] == "ephemeral"
    assert "did you mean `status`" in reply["text"]


async def test_tampered_button_value_is_a_clear_error(running_bot):
    reply = await click(running_bot, {"action_id": ActionId.NEXT.value, "value": "q1;p=0;s=nope"})
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert ":warning:" in reply["text"]


async def test_hostile_task_paths_render_literally(running_bot, emulator, clock):
    emulator.ledger.create(
        ["https://www.example.com/<!channel>/<http://evil|ok>.png"], "file", clock()
    )
    reply = await command(running_bot, "www.example.com type:file size:3")
    assert table_of(reply)[0][4]["text"].startswith("https://www.example.com/<!channel>")


async def test_bad_signature_and_stale_timestamp_are_refused(running_bot):
    body = slash_command("failed", response_url=running_bot.slack.new_response_url())
    forged = await running_bot.post(body, secret="not-the-secret")
    stale = await running_bot.post(body, at=time.time() - 600)
    assert forged.status_code == 401 and stale.status_code == 401
    assert not running_bot.slack.responses


async def test_upstream_errors_become_wording(running_bot, emulator):
    emulator.script("DescribeRefreshTasks", *[ApiFault(400, "Throttling.User", "slow")] * 4)
    throttled = await command(running_bot, "type:file since:1h")
    assert "rate-limiting" in throttled["text"]
    emulator.script(
        "DescribeRefreshTasks",
        ApiFault(400, "SignatureDoesNotMatch", "server string to sign is:test-key"),
    )
    rejected = await command(running_bot, "type:file since:2h")
    assert "credentials were rejected" in rejected["text"] and "test-key" not in dumps(rejected)


async def test_unexpected_errors_apologise_with_an_id_in_the_log(running_bot, caplog, monkeypatch):
    import bot.slack.replies as replies

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(replies.render, "task_page", broken)
    with caplog.at_level(logging.ERROR):
        reply = await command(running_bot, "failed")
    error_id = reply["text"].split("`")[1]
    assert "Sorry" in reply["text"] and len(error_id) == 8
    assert any(error_id in record.getMessage() for record in caplog.records)


async def test_dead_response_url_is_logged_and_the_bot_carries_on(running_bot, caplog):
    running_bot.slack.respond_status = 404
    hook = running_bot.slack.new_response_url()
    with caplog.at_level(logging.WARNING):
        await running_bot.post(slash_command("failed", response_url=hook))
        await running_bot.slack.response_to(hook)
        await wait_until(lambda: any("refused" in r.getMessage() for r in caplog.records))
    running_bot.slack.respond_status = 200
    assert table_of(await command(running_bot, "failed size:2"))


async def test_times_are_read_in_the_users_timezone(running_bot, clock):
    reply = await command(running_bot, "since:today type:file")
    value = buttons_of(reply)[ActionId.REFRESH]["value"]
    since = decode_query(value, now=clock()).since
    assert since.hour == 16  # midnight in Asia/Shanghai is 16:00 UTC


async def test_health_check(running_bot):
    response = await running_bot.http.get(f"{running_bot.url}/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert "secret" not in response.text.lower() and "xoxb" not in response.text


async def test_times_beyond_the_calendar_are_a_clear_error(running_bot, caplog):
    for text in ("until:9999-12-31", "since:999999d"):
        with caplog.at_level(logging.INFO):
            reply = await command(running_bot, text)
        assert "too far off" in reply["text"] and "Sorry" not in reply["text"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_wildcard_domain_names_the_domains_it_covered(running_bot):
    reply = await command(running_bot, "domain:*.example.com failed size:5")
    said = dumps(reply)
    assert "_(domains " in said and "www.example.com" in said
    assert table_of(reply)
    assert all(".example.com/" in path for path in paths_of(reply))
