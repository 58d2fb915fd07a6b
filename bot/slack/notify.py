"""Posting to channels with chat.postMessage: spaced per channel, refusals sorted into
"never again" (the channel is gone or closed to the bot) and "try again next cycle"."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.tasks import Task
from bot.core.watch import PostOutcome
from bot.slack import alerts
from bot.slack.render import Reply

log = logging.getLogger(__name__)

# Slack errors after which posting to the channel cannot work until someone acts.
UNREACHABLE = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "restricted_action",
    "team_access_not_granted",
}


class Notifier:
    """Posts messages to channels, about one per second per channel at most."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        spacing: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._spacing = spacing
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def post(self, channel_id: str, reply: Reply) -> PostOutcome:
        """Post `reply` in the channel; 429s are retried by the client after Retry-After."""
        async with self._locks[channel_id]:
            last = self._last.get(channel_id)
            if last is not None:
                await self._sleep(max(0.0, last + self._spacing - self._clock()))
            try:
                await self._client.chat_postMessage(
                    channel=channel_id, unfurl_links=False, unfurl_media=False, **reply.payload()
                )
            except SlackApiError as exc:
                error = str(exc.response.get("error", "unknown"))
                if error in UNREACHABLE:
                    log.warning("channel %s is unreachable: %s", channel_id, error)
                    return PostOutcome(delivered=False, unreachable=error)
                log.warning("posting to %s failed (%s); will try again", channel_id, error)
                return PostOutcome(delivered=False)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("posting to %s failed (%s); will try again", channel_id, exc)
                return PostOutcome(delivered=False)
            finally:
                self._last[channel_id] = self._clock()
        return PostOutcome(delivered=True)

    async def post_failures(
        self, channel_id: str, tasks: Sequence[Task], *, now: datetime
    ) -> PostOutcome:
        """One notification about `tasks` (the watcher's PostFailures)."""
        return await self.post(channel_id, alerts.failure_notice(tasks, now=now))
