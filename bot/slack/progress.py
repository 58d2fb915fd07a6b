"""Following submissions to the end: one message each, kept up to date within Slack's limits.

A started submission gets one message in the channel where it was asked (or, where the bot
cannot post, the person's private reply through the response_url). A background loop looks at
the tasks of every submission that is due (ten IDs a call, as a background caller), and changes
a message only when what it shows changed, at most once per MESSAGE_GAP, within one app-wide
window of chat.update calls. Each followed submission is in the store, so a restart resumes it.

With several replicas, any of them posts a submission's first message, and only the one holding
the background lease (bot.leader) follows submissions: it adopts from the store those that
another replica started, and a replica that loses the lease forgets what it followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.progress import Cadence, Tally, Tracked, Window, follow, tally
from bot.core.tasks import FINAL, HISTORY_DAYS, Task
from bot.errors import BotError
from bot.leader import Leadership
from bot.slack import progress_message
from bot.slack.hooks import GuardedRespond, ReplyHosts
from bot.slack.notify import UNREACHABLE
from bot.slack.render import Reply
from bot.slack.replies import send
from bot.store.database import Store

if TYPE_CHECKING:
    from bot.slack.writes import Started

log = logging.getLogger(__name__)

# How often the leader looks in the store for submissions another replica started.
ADOPT_EVERY = timedelta(seconds=2)


class TaskLookup(Protocol):
    """Tasks by ID, now (the writer's DescribeRefreshTaskById, as a background caller)."""

    async def tasks(self, task_ids: Sequence[str]) -> list[Task]: ...


def private_only(channel: str) -> bool:
    """Whether the bot cannot post in `channel` at all: a direct message between people."""
    return channel.startswith("D")


class Tracker:
    """Posts and updates progress messages; `cycle()` alone is what tests drive."""

    def __init__(
        self,
        *,
        lookup: TaskLookup,
        store: Store,
        client: AsyncWebClient,
        hosts: ReplyHosts,
        clock: Callable[[], datetime],
        cadence: Cadence | None = None,
        window: Window | None = None,
        tick: float = 1.0,
        leadership: Leadership | None = None,
    ) -> None:
        self._leadership = leadership
        self._lookup = lookup
        self._store = store
        self._client = client
        self._hosts = hosts
        self._clock = clock
        self._cadence = cadence or Cadence()
        self.window = window or Window()  # the app's chat.update budget, for every message
        self._tick = tick
        self._followed: dict[str, Tracked] = {}
        self._due: dict[str, datetime] = {}
        # Final states waiting for room to be shown: their tasks need no reading again.
        self._waiting: dict[str, Tally] = {}
        # Tasks that reached their end, by submission: read once, never again.
        self._ended: dict[str, dict[str, Task]] = {}
        self._adopted_at: datetime | None = None  # None: the store not read yet
        self._busy = asyncio.Lock()

    @property
    def followed(self) -> tuple[Tracked, ...]:
        """The submissions still being followed."""
        return tuple(self._followed.values())

    async def start(self, started: Started) -> None:
        """Post the first progress message for a submission, and follow it from now on."""
        task_ids = started.submitted.task_ids
        if not task_ids:
            return  # nothing went in: the confirmation's answer said why
        submission = replace(started.submission, paths=started.submitted.accepted)
        key = uuid.uuid4().hex

        def record(*, private: bool) -> Tracked:
            return follow(
                submission,
                task_ids,
                id=key,
                user=started.user,
                channel=started.channel,
                refused=len(started.submitted.refused),
                at=started.at,
                private=private,
            )

        counted, now = tally(task_ids, ()), started.at
        tracked = record(private=False)
        first = progress_message.progress(tracked, counted, now=now, final=False)
        ts = None if private_only(started.channel) else await self._post(started.channel, first)
        if ts is not None:
            tracked = replace(tracked, message_ts=ts)
            tracked = tracked.updated(_shown(counted, final=False), now, final=False)
        elif started.response_url is not None:
            # The confirmation's own answer takes the private reply right after this; the
            # progress replaces it at the first look.
            tracked = replace(record(private=True), response_url=started.response_url)
        else:
            log.warning("nowhere to show the progress of a submission in %s", started.channel)
            return
        await self._store.save_tracked(tracked)
        if self._leads():
            self._followed[tracked.id] = tracked
            self._due[tracked.id] = tracked.next_look(now, self._cadence)

    def _leads(self) -> bool:
        return self._leadership is None or self._leadership.leading

    async def _save(self, tracked: Tracked) -> None:
        """Record what the message shows now, under the lease: a replica that lost it (paused
        past it) writes nothing and lets go of what it followed."""
        fence = self._leadership.fence if self._leadership is not None else None
        if self._leadership is not None and fence is None:
            self._forget_all()  # no longer sure it leads: nothing more is written
        elif not await self._store.save_tracked(tracked, fence=fence):
            log.warning("lost the background lease while following progress")
            self._forget_all()

    def _forget_all(self) -> None:
        """Another replica leads: what this one followed is in the store, for it."""
        for memory in (self._followed, self._due, self._waiting, self._ended):
            memory.clear()
        self._adopted_at = None

    async def _adopt(self, now: datetime) -> None:
        """Follow the unfinished submissions in the store this replica does not follow yet:
        after a restart, and those another replica started."""
        if self._adopted_at is not None and now - self._adopted_at < ADOPT_EVERY:
            return
        for tracked in await self._store.unfinished_tracked():
            self._followed.setdefault(tracked.id, tracked)
        self._adopted_at = now

    async def _post(self, channel: str, reply: Reply) -> str | None:
        """Post `reply` in `channel`; its ts, or None when the bot cannot post there."""
        try:
            answer = await self._client.chat_postMessage(
                channel=channel, unfurl_links=False, unfurl_media=False, **reply.payload()
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("progress cannot go to %s (%r): using the private reply", channel, error)
            return None
        except SlackApiError as error:
            reason = str(error.response.get("error", ""))
            level = logging.INFO if reason in UNREACHABLE else logging.WARNING
            log.log(
                level, "progress cannot go to %s (%s): using the private reply", channel, reason
            )
            return None
        return str(answer["ts"])

    async def _reply(self, response_url: str | None, reply: Reply) -> None:
        respond = GuardedRespond(response_url=response_url, hosts=self._hosts)
        await send(respond, reply, replace_original=True)

    async def cycle(self) -> int:
        """Look at every submission that is due, and change the messages that must change;
        how many changed."""
        async with self._busy:
            if not self._leads():
                self._forget_all()
                return 0
            now = self._clock()
            await self._adopt(now)
            due = [t for t in self._followed.values() if self._due.get(t.id, now) <= now]
            if not due:
                return 0
            changed = 0
            waiting = [t for t in due if t.id in self._waiting]
            looking = [t for t in due if t.id not in self._waiting]
            for tracked in waiting:
                changed += await self._advance(tracked, self._waiting[tracked.id], now)
            wanted = list(
                dict.fromkeys(
                    task_id
                    for t in looking
                    for task_id in t.task_ids
                    if task_id not in self._ended.get(t.id, {})
                )
            )
            try:
                found = await self._lookup.tasks(wanted) if wanted else []
            except BotError as error:
                log.warning("could not read the progress of %d tasks: %r", len(wanted), error)
                for tracked in looking:
                    self._due[tracked.id] = tracked.next_look(now, self._cadence)
                return changed
            for tracked in looking:
                ended = self._ended.setdefault(tracked.id, {})
                mine = set(tracked.task_ids)
                ended.update(
                    {t.task_id: t for t in found if t.status in FINAL and t.task_id in mine}
                )
                counted = tally(tracked.task_ids, [*found, *ended.values()])
                changed += await self._advance(tracked, counted, now)
            await self._store.forget_tracked_before(now - timedelta(days=HISTORY_DAYS))
            return changed

    async def _advance(self, tracked: Tracked, counted: Tally, now: datetime) -> int:
        final = counted.final or tracked.cap_reached(now)
        shown = _shown(counted, final=final)
        # A final state not shown yet (too soon, or the app's budget spent) goes next cycle,
        # from the tally kept here: the tasks are done and need no reading again.
        self._due[tracked.id] = now if final else tracked.next_look(now, self._cadence)
        if final:
            self._waiting[tracked.id] = counted
        if shown == tracked.shown:
            return 0
        if not tracked.may_update(now, final=final):
            if final and tracked.message_ts is None:
                # The response_url is spent: the reply stays as last shown.
                await self._finish(replace(tracked, finished_at=now))
            return 0
        if not self._leads() or not self.window.take(now):
            return 0  # another replica leads now, or the app's update budget is spent
        reply = progress_message.progress(tracked, counted, now=now, final=final)
        if tracked.message_ts is not None:
            await self._update(tracked.channel, tracked.message_ts, reply)
        else:
            await self._reply(tracked.response_url, reply)
        updated = tracked.updated(shown, now, final=final)
        if final:
            await self._finish(updated)
        else:
            self._followed[tracked.id] = updated
            await self._save(updated)
        return 1

    async def _finish(self, tracked: Tracked) -> None:
        await self._save(tracked)
        self._followed.pop(tracked.id, None)
        self._due.pop(tracked.id, None)
        self._waiting.pop(tracked.id, None)
        self._ended.pop(tracked.id, None)

    async def _update(self, channel: str, ts: str, reply: Reply) -> None:
        try:
            # Full blocks and text every time: an update without blocks would remove them.
            await self._client.chat_update(channel=channel, ts=ts, **reply.payload())
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            # The next change tries again; the record moves on so the limits hold.
            log.warning("could not update progress %s in %s: %s", ts, channel, error)

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until `stop` is set, finishing the cycle under way."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self.cycle()
            except Exception:
                log.exception("progress cycle crashed, will retry")
            pause = max(0.0, self._tick - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)


def _shown(counted: Tally, *, final: bool) -> str:
    return f"{counted.shown}{' final' if final else ''}"
