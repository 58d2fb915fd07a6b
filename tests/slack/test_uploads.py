"""Files upload v2 against the stand-in Slack: into a channel, into a DM, refused, too slow."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.uploads import Files
from tests.slack.fake_slack import BOT_TOKEN

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
async def files(fake_slack):
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, session=session)
        yield Files(client, within=1.0)


def upload(files: Files, **where):
    return files.upload(
        PNG, filename="chart.png", title="Chart", alt_text="bars " * 300, comment="hi", **where
    )


async def test_into_a_channel_in_three_steps(files, fake_slack):
    done = await upload(files, channel="C0OPS0001")
    assert done.ok and done.channel == "C0OPS0001" and done.permalink
    methods = [name for name, _ in fake_slack.api_calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    (shared,) = fake_slack.shared_files("C0OPS0001")
    assert shared["data"] == PNG and shared["length"] == len(PNG)
    assert shared["title"] == "Chart" and shared["initial_comment"] == "hi"
    assert len(shared["alt_txt"]) == 1000  # Slack's limit


async def test_into_a_dm_opened_first(files, fake_slack):
    done = await upload(files, user="U0ANA1234")
    assert done.ok and done.channel == "D0ANA1234"
    assert fake_slack.calls_of("conversations.open") == [{"users": "U0ANA1234"}]
    assert fake_slack.shared_files("D0ANA1234")


async def test_refusals_come_back_as_slacks_code(files, fake_slack):
    fake_slack.upload_errors["C0OPS0001"] = "not_in_channel"
    refused = await upload(files, channel="C0OPS0001")
    assert (refused.ok, refused.error) == (False, "not_in_channel")
    fake_slack.open_error = "missing_scope"
    assert (await upload(files, user="U0ANA1234")).error == "missing_scope"
    with pytest.raises(ValueError, match="where the file goes"):
        await upload(files)


async def test_a_stuck_upload_gives_up_in_time(files, fake_slack):
    fake_slack.upload_gate = asyncio.Event()
    try:
        stuck = await upload(files, channel="C0OPS0001")
    finally:
        fake_slack.upload_gate.set()
    assert stuck.error == "timeout"
    assert not fake_slack.shared_files()
