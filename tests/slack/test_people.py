"""Timezones from users.info: IANA names, offsets, and UTC when Slack will not say; user
groups from usergroups.users.list; the Directory that asks both with one bound client."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Directory, Groups, Memberships, Timezones


async def test_timezones_are_looked_up_once_and_fall_back_to_utc(fake_slack):
    fake_slack.timezones["U0OFFSET1"] = ("Not/AZone", 19800)
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    zones = Timezones()
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    assert len(fake_slack.calls_of("users.info")) == 1
    assert await zones.of(client, "U0OFFSET1") == timezone(timedelta(hours=5, minutes=30))
    assert await zones.of(client, "U0NOBODY1") is UTC


async def test_a_changed_timezone_is_read_within_five_minutes(fake_slack):
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    now = [0.0]
    zones = Timezones(timer=lambda: now[0])
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    fake_slack.timezones["U0ANA1234"] = ("Europe/Berlin", 3600)  # they travelled
    now[0] = 299
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Asia/Shanghai")
    now[0] = 301
    assert await zones.of(client, "U0ANA1234") == ZoneInfo("Europe/Berlin")


async def test_unreachable_slack_means_utc_for_now():
    client = AsyncWebClient(token="xoxb-1", base_url="http://127.0.0.1:9/api/", timeout=2)
    client.retry_handlers.clear()
    assert await Timezones().of(client, "U0ANA1234") is UTC


class Ticks:
    """A monotonic clock for the caches that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failed_group_lookup_is_not_remembered_as_no_members(fake_slack):
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    client.retry_handlers.clear()
    ticks = Ticks()
    groups = Groups(timer=ticks)
    wanted = frozenset({"S0ONCALL1"})
    assert await groups.of(client, "U0ANA1234", wanted) == frozenset()  # Slack said no_such_subteam
    fake_slack.groups["S0ONCALL1"] = ["U0ANA1234"]
    ticks.now += 1  # a burst of commands right after a failure does not hammer Slack...
    assert await groups.of(client, "U0ANA1234", wanted) == frozenset()
    assert len(fake_slack.calls_of("usergroups.users.list")) == 1
    ticks.now += 5  # ...but a few seconds later Slack is asked again, not minutes later
    assert await groups.of(client, "U0ANA1234", wanted) == wanted
    fake_slack.groups["S0ONCALL1"] = []
    ticks.now += 240  # an answer is kept for five minutes
    assert await groups.of(client, "U0ANA1234", wanted) == wanted
    assert len(fake_slack.calls_of("usergroups.users.list")) == 2


async def test_unreachable_slack_is_not_remembered_either():
    ticks = Ticks()
    groups = Groups(timer=ticks)
    client = AsyncWebClient(token="xoxb-1", base_url="http://127.0.0.1:9/api/", timeout=2)
    client.retry_handlers.clear()
    assert await groups.of(client, "U0ANA1234", frozenset({"S0ONCALL1"})) == frozenset()
    assert "S0ONCALL1" not in groups._members


async def test_the_directory_binds_the_client_once(fake_slack):
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    client.retry_handlers.clear()
    fake_slack.groups["S0ONCALL1"] = ["U0ANA1234"]
    people = Directory(client)
    assert await people.timezone("U0ANA1234") == ZoneInfo("Asia/Shanghai")
    assert await people.groups_of("U0ANA1234", frozenset()) == frozenset()
    assert fake_slack.calls_of("usergroups.users.list") == []  # nothing wanted, nothing asked
    wanted = frozenset({"S0ONCALL1", "S0OTHERS1"})
    assert await people.groups_of("U0ANA1234", wanted) == {"S0ONCALL1"}


async def test_memberships_are_listed_kept_and_refused_without_the_scopes(fake_slack):
    client = AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url)
    client.retry_handlers.clear()
    ticks = Ticks()
    memberships = Memberships(timer=ticks)
    fake_slack.memberships = {"U0ANA1234": ["C1", "G2"]}
    assert await memberships.of(client, "U0ANA1234") == {"C1", "G2"}
    assert await memberships.of(client, "U0ANA1234") == {"C1", "G2"}
    (asked,) = fake_slack.calls_of("users.conversations")
    assert asked["types"] == "public_channel,private_channel" and asked["exclude_archived"]
    fake_slack.memberships = None  # the app lacks channels:read
    assert await memberships.of(client, "U0BOB0001") is None
    fake_slack.memberships = {"U0BOB0001": ["C3"]}
    ticks.now += 1  # a failure is remembered briefly...
    assert await memberships.of(client, "U0BOB0001") is None
    ticks.now += 60  # ...not for long
    assert await Directory(client, memberships=memberships).channels_of("U0BOB0001") == {"C3"}
