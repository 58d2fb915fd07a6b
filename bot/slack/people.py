"""What the bot knows about the people it answers: their timezone, from users.info, cached."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class Timezones:
    """Each person's timezone for reading `today` or `09:00`; UTC when Slack will not say."""

    def __init__(self, *, ttl: float = 3600, maxsize: int = 5000) -> None:
        self._known: TTLCache[str, tzinfo] = TTLCache(maxsize=maxsize, ttl=ttl)

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
