"""Posting to channels with chat.postMessage: spaced per channel, refusals sorted into
"never again" (the channel is gone or closed to the bot) and "try again next cycle"."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import aiohttp
from cachetools import LRUCache
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.stuck import Ended
from bot.core.tasks import Task
from bot.core.watch import PostOutcome
from bot.slack import alerts, stuck_render
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
    """Posts messages to channels, about one per second per channel at most.

    chat.postMessage goes straight onto the Web API client's connection pool with the message
    encoded once: a digest sent to hundreds of channels costs a quarter of the CPU that way.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        spacing: float = 1.0,
        retries: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if client.session is None:
            raise ValueError("the Notifier needs a client with a shared aiohttp session")
        self._session = client.session
        self._url = f"{client.base_url}chat.postMessage"
        self._headers = {
            "Authorization": f"Bearer {client.token}",
            "Content-Type": "application/json; charset=utf-8",
        }
        self._spacing = spacing
        self._retries = retries
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Channels subscribed alike get the same digest in a cycle: render it once.
        self._rendered: LRUCache[tuple[datetime, tuple[str, ...]], Reply] = LRUCache(maxsize=256)

    async def _post_message(
        self, channel_id: str, reply: Reply, thread_ts: str | None
    ) -> tuple[str | None, str | None]:
        """(the message's ts, None) once Slack accepted it, else (None, the error it gave)."""
        head: dict[str, object] = {
            "channel": channel_id,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            head["thread_ts"] = thread_ts
        body = json.dumps(head).encode()[:-1] + b"," + reply.encoded[1:]
        for attempt in range(self._retries + 1):
            async with self._session.post(self._url, data=body, headers=self._headers) as answer:
                if answer.status == 429 and attempt < self._retries:
                    await self._sleep(_retry_after(answer.headers.get("Retry-After")))
                    continue
                if answer.status == 429:
                    return None, "ratelimited"
                result = await answer.json(content_type=None)
            if result.get("ok"):
                ts = result.get("ts")
                return (str(ts) if ts else None), None
            return None, str(result.get("error", "unknown"))
        return None, "ratelimited"

    async def post(
        self, channel_id: str, reply: Reply, *, thread_ts: str | None = None
    ) -> PostOutcome:
        """Post `reply` in the channel (in the thread of `thread_ts`, if given), waiting out
        HTTP 429 (Retry-After) a few times."""
        async with self._locks[channel_id]:
            last = self._last.get(channel_id)
            if last is not None:
                await self._sleep(max(0.0, last + self._spacing - self._clock()))
            ts: str | None = None
            try:
                ts, error = await self._post_message(channel_id, reply, thread_ts)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            finally:
                self._last[channel_id] = self._clock()
        if error is None:
            return PostOutcome(delivered=True, ts=ts)
        if error in UNREACHABLE:
            log.warning("channel %s is unreachable: %s", channel_id, error)
            return PostOutcome(delivered=False, unreachable=error)
        log.warning("posting to %s failed (%s); will try again", channel_id, error)
        return PostOutcome(delivered=False)

    async def post_failures(
        self, channel_id: str, tasks: Sequence[Task], *, now: datetime
    ) -> PostOutcome:
        """One notification about `tasks` (the watcher's PostFailures)."""
        key = (now, tuple(task.task_id for task in tasks))
        reply = self._rendered.get(key)
        if reply is None:
            reply = self._rendered[key] = alerts.failure_notice(tasks, now=now)
        return await self.post(channel_id, reply)

    async def post_stuck(
        self, channel_id: str, tasks: Sequence[Task], *, now: datetime
    ) -> PostOutcome:
        """One notice that `tasks` are stuck (the watcher's PostStuck); its ts for the thread."""
        return await self.post(channel_id, stuck_render.stuck_notice(tasks, now=now))

    async def post_ended(
        self, channel_id: str, thread_ts: str, ended: Sequence[Ended], *, unfinished: int
    ) -> PostOutcome:
        """How stuck tasks ended, in their notice's thread (the watcher's PostEnded)."""
        reply = stuck_render.stuck_ended(ended, unfinished=unfinished)
        return await self.post(channel_id, reply, thread_ts=thread_ts)


def _retry_after(header: str | None) -> float:
    try:
        return min(60.0, max(0.0, float(header))) if header else 1.0
    except ValueError:
        return 1.0
