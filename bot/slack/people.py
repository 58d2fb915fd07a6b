"""What the bot knows about the people it answers: their timezone (users.info), the user
groups they are in (usergroups.users.list) and the channels they are in (users.conversations),
all cached, behind one Directory that holds the Web API client so listeners never see it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class People(Protocol):
    """What the listeners ask about the person they answer."""

    async def timezone(self, user: str) -> tzinfo:
        """The timezone `user` reads times in."""
        ...

    async def groups_of(self, user: str, wanted: frozenset[str]) -> frozenset[str]:
        """The groups among `wanted` that `user` is in."""
        ...

    async def channels_of(self, user: str) -> frozenset[str] | None:
        """The channels `user` is in (private ones only where the bot is too); None when
        Slack will not say."""
        ...


class Directory:
    """People as the workspace knows them: the Web API client, bound once, and its caches."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        timezones: Timezones | None = None,
        groups: Groups | None = None,
        memberships: Memberships | None = None,
    ) -> None:
        self._client = client
        self._timezones = timezones or Timezones()
        self._groups = groups or Groups()
        self._memberships = memberships or Memberships()

    async def timezone(self, user: str) -> tzinfo:
        """The timezone of `user`; UTC when Slack will not say."""
        return await self._timezones.of(self._client, user)

    async def groups_of(self, user: str, wanted: frozenset[str]) -> frozenset[str]:
        """The groups among `wanted` that `user` belongs to (none asked for, none looked up)."""
        if not wanted:
            return frozenset()
        return await self._groups.of(self._client, user, wanted)

    async def channels_of(self, user: str) -> frozenset[str] | None:
        """The channels `user` is in, as far as the bot may know (users.conversations)."""
        return await self._memberships.of(self._client, user)


class Timezones:
    """Each person's timezone for reading `today` or `09:00`; UTC when Slack will not say.
    Kept five minutes, so someone who travels or changes the setting is read right soon."""

    def __init__(
        self, *, ttl: float = 300, maxsize: int = 5000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._known: TTLCache[str, tzinfo] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)

    async def of(self, client: AsyncWebClient, user_id: str) -> tzinfo:
        """The timezone of `user_id`."""
        known = self._known.get(user_id)
        if known is not None:
            return known
        try:
            answer = await client.users_info(user=user_id)
        except SlackApiError as exc:
            # Without users:read (or for an unknown user) times are read as UTC.
            log.info("users.info for %s failed (%s); using UTC", user_id, exc.response.get("error"))
            found: tzinfo = UTC
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.info unreachable (%s); reading times as UTC this once", exc)
            return UTC
        else:
            user = answer.get("user") or {}
            found = _zone(user.get("tz"), user.get("tz_offset"))
        self._known[user_id] = found
        return found


def _zone(name: object, offset: object) -> tzinfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if isinstance(offset, int) and -86400 < offset < 86400:
        return timezone(timedelta(seconds=offset))
    return UTC


class Groups:
    """Which of the policy's user groups someone is in, from usergroups.users.list, cached.

    A failed lookup grants nothing, and is remembered for `retry_after` seconds only: long enough
    that a burst of commands does not hammer a struggling Slack, short enough that a hiccup
    does not lock a whole group out for the five minutes an answer is kept.
    """

    def __init__(
        self,
        *,
        ttl: float = 300,
        retry_after: float = 5,
        maxsize: int = 500,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._members: TTLCache[str, frozenset[str]] = TTLCache(maxsize, ttl, timer=timer)
        self._failed: TTLCache[str, bool] = TTLCache(maxsize, retry_after, timer=timer)

    async def of(
        self, client: AsyncWebClient, user_id: str, wanted: frozenset[str]
    ) -> frozenset[str]:
        """The groups among `wanted` that `user_id` belongs to (as far as Slack would say)."""
        found = set()
        for group in wanted:
            members = self._members.get(group)
            if members is None and group not in self._failed:
                members = await self._lookup(client, group)
                if members is None:
                    self._failed[group] = True
                else:
                    self._members[group] = members
            if members and user_id in members:
                found.add(group)
        return frozenset(found)

    @staticmethod
    async def _lookup(client: AsyncWebClient, group: str) -> frozenset[str] | None:
        """The group's members; None when Slack did not say (the denial says whom to ask)."""
        try:
            answer = await client.usergroups_users_list(usergroup=group)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("usergroups.users.list for %s failed: %s", group, exc)
            return None
        return frozenset(str(user) for user in answer.get("users") or [])


class Memberships:
    """The channels each person is in, from users.conversations, kept five minutes.

    With a bot token Slack lists a person's public channels, and the private ones the bot is in
    too. Without the `channels:read` and `groups:read` scopes (or when Slack fails) the answer
    is None, remembered for `retry_after` seconds only.
    """

    PAGE = 200
    PAGES = 5  # a thousand channels: past that, the Home lists what it found

    def __init__(
        self,
        *,
        ttl: float = 300,
        retry_after: float = 30,
        maxsize: int = 2000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known: TTLCache[str, frozenset[str]] = TTLCache(maxsize, ttl, timer=timer)
        self._failed: TTLCache[str, bool] = TTLCache(maxsize, retry_after, timer=timer)

    async def of(self, client: AsyncWebClient, user_id: str) -> frozenset[str] | None:
        """The channels `user_id` is in; None when Slack would not say."""
        known = self._known.get(user_id)
        if known is not None:
            return known
        if user_id in self._failed:
            return None
        found: set[str] = set()
        cursor: str | None = None
        try:
            for _ in range(self.PAGES):
                answer = await client.users_conversations(
                    user=user_id,
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=self.PAGE,
                    cursor=cursor,
                )
                found.update(str(channel.get("id")) for channel in answer.get("channels") or [])
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.conversations for %s failed: %s", user_id, exc)
            self._failed[user_id] = True
            return None
        self._known[user_id] = members = frozenset(found)
        return members
