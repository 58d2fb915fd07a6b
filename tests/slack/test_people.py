"""Timezones from users.info: IANA names, offsets, and UTC when Slack will not say."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Timezones


async def test_timezones_are_looked_up_once_and_fall_back_to_utc(fake_slack):
    fake_slack.timezones["U0OFFSET1"] = ("Not/AZone", 19800)
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    zones = Timezones()
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    assert len(fake_slack.calls_of("users.info")) == 1
    assert await zones.of(client, "U0OFFSET1") == timezone(timedelta(hours=5, minutes=30))
    assert await zones.of(client, "U0NOBODY1") is UTC


async def test_unreachable_slack_means_utc_for_now():
    client = AsyncWebClient(token="xoxb-1", base_url="http://127.0.0.1:9/api/", timeout=2)
    client.retry_handlers.clear()
    assert await Timezones().of(client, "U0ANA1234") is UTC
