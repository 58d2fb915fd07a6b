"""One person cannot wedge the bot: bounded cost per query, a few commands each, a deadline."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.plan import CALL_BUDGET
from bot.errors import TookTooLong
from bot.slack.admission import Admission
from tests.slack.fake_slack import slash_command
from tests.slack.test_http_app import command, table_of


def text_of(reply) -> str:
    return json.dumps(reply, ensure_ascii=False)


async def test_a_huge_merged_page_is_refused_before_any_upstream_call(running_bot, emulator):
    reply = await command(running_bot, "status:failed page:100000 size:100")
    assert "too deep" in text_of(reply) and "type:file" in text_of(reply)
    assert emulator.calls_of("DescribeRefreshTasks") == []
    # The same page of one type is a single call, at any depth.
    await command(running_bot, "status:failed type:file page:100000 size:100")
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 1


async def test_a_deep_merged_page_reads_only_pages_that_exist(running_bot, emulator):
    reply = await command(running_bot, "status:complete page:10 size:100")  # 1,000 rows deep
    assert not table_of(reply)  # 120 demo tasks: past the end
    calls = emulator.calls_of("DescribeRefreshTasks")
    assert len(calls) == 3  # page one of each type showed there is nothing deeper
    assert len(calls) <= CALL_BUDGET


async def test_a_person_has_at_most_three_commands_in_flight(running_bot):
    slack = running_bot.slack
    slack.users_info_gate = asyncio.Event()
    stuck = [slack.new_response_url() for _ in range(3)]
    for hook in stuck:
        await running_bot.post(slash_command("failed", response_url=hook))
    fourth = slack.new_response_url()
    await running_bot.post(slash_command("failed", response_url=fourth))
    (refused,) = await slack.response_to(fourth)
    assert "already have 3 commands" in text_of(refused)
    assert not [hook for hook, _ in slack.responses if hook in stuck]
    # Somebody else is not held up by that.
    other = slack.new_response_url()
    await running_bot.post(slash_command("failed", response_url=other, user="U0BOB5678"))
    slack.users_info_gate.set()
    for hook in [*stuck, other]:
        (reply,) = await slack.response_to(hook)
        assert table_of(reply)
    # Their slots are free again.
    assert table_of(await command(running_bot, "failed"))


@pytest.mark.admission(Admission(deadline=0.3))
async def test_a_command_past_its_deadline_is_answered_and_recorded(running_bot):
    gate = running_bot.slack.users_info_gate = asyncio.Event()  # opens only after the deadline
    try:
        reply = await command(running_bot, "failed")
    finally:
        gate.set()
    assert "within 0.3 seconds" in text_of(reply)
    (entry,) = await running_bot.store.recent_audit(1)
    assert entry.outcome == "failed: TookTooLong"


async def test_unbounded_work_is_not_cut_at_the_deadline():
    admission = Admission(deadline=0.01)
    finished = asyncio.Event()

    async def submission() -> None:
        await asyncio.sleep(0.05)  # stands for API calls outlasting the deadline
        finished.set()

    async with admission.hold("U1", bounded=False):
        await submission()
    assert finished.is_set()
    with pytest.raises(TookTooLong):
        async with admission.hold("U1"):
            await submission()
