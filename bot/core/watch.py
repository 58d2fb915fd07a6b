"""Failure notifications, decided purely: which failed tasks each channel still has to hear of,
and how far the watcher may move its high-water mark without losing any of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.tasks import ObjectType, Task, domain_matches, newest_first
from bot.core.timeframe import oldest_start

# Every type a refresh or prefetch can fail as; one upstream stream each.
WATCHED_TYPES = (
    ObjectType.FILE,
    ObjectType.DIRECTORY,
    ObjectType.PRELOAD,
    ObjectType.REGEX,
    ObjectType.IGNORE_PARAMS,
)


@dataclass(frozen=True)
class Subscription:
    """A channel that wants to hear of failures, of one domain (`*.x` = x and below) and type."""

    channel_id: str
    domain: str | None
    object_type: ObjectType | None
    added_by: str
    added_at: datetime
    unreachable: str | None = None  # why posting there stopped working, if it did
    stuck: bool = True  # also hears of tasks that stay unfinished (`stuck:off` opts out)

    def matches(self, task: Task) -> bool:
        """Whether `task` is one this subscription asked for (and failed after it was made)."""
        # The API gives creation times to the second: a task made in the subscription's own
        # second counts as after it.
        if task.created < self.added_at.replace(microsecond=0):
            return False
        if self.object_type is not None and task.object_type != self.object_type:
            return False
        return self.domain is None or domain_matches(self.domain, task.domain)


@dataclass(frozen=True)
class PostOutcome:
    """What happened to a notification: delivered, refused for good (`unreachable`), or neither
    (a passing failure: the tasks stay owed and the next cycle tries again). `ts` names the
    message Slack accepted, for replies in its thread."""

    delivered: bool
    unreachable: str | None = None
    ts: str | None = None


def watch_window(
    high_water: datetime | None, now: datetime, *, overlap: timedelta
) -> tuple[datetime, datetime]:
    """The creation times to scan, in whole seconds: from the mark less the overlap (tasks made
    before the mark may have failed since) to now, never further back than the API keeps.
    With no mark yet the watcher starts at `now`: it never replays history into channels."""
    end = now.replace(microsecond=0)
    start = max(oldest_start(end), (high_water or end) - overlap).replace(microsecond=0)
    return min(start, end - timedelta(seconds=1)), end


class Router:
    """Subscriptions indexed by domain, so routing costs per task, not per subscription.

    `scopes` limits channels to some domains: nothing outside them is routed there.
    """

    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        scopes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._scopes = scopes or {}
        self._exact: dict[str, list[Subscription]] = defaultdict(list)
        self._wildcard: dict[str, list[Subscription]] = defaultdict(list)
        self._everywhere: list[Subscription] = []
        for subscription in subscriptions:
            if subscription.unreachable:
                continue
            if subscription.domain is None:
                self._everywhere.append(subscription)
            elif subscription.domain.startswith("*."):
                self._wildcard[subscription.domain[2:]].append(subscription)
            else:
                self._exact[subscription.domain].append(subscription)

    def _candidates(self, host: str) -> Iterable[Subscription]:
        yield from self._everywhere
        yield from self._exact.get(host, ())
        labels = host.split(".")
        for start in range(len(labels)):
            yield from self._wildcard.get(".".join(labels[start:]), ())

    def route(self, failures: Iterable[Task]) -> dict[str, list[Task]]:
        """Each channel's matching failures, newest first, each task once per channel."""
        routed: dict[str, dict[str, Task]] = defaultdict(dict)
        # Sorted once here, every channel's list comes out in order without sorting it again.
        for task in sorted(failures, key=newest_first):
            for subscription in self._candidates(task.domain):
                if subscription.matches(task) and self._in_scope(subscription.channel_id, task):
                    routed[subscription.channel_id].setdefault(task.task_id, task)
        return {channel: list(tasks.values()) for channel, tasks in routed.items()}

    def _in_scope(self, channel: str, task: Task) -> bool:
        scope = self._scopes.get(channel)
        return not scope or any(domain_matches(pattern, task.domain) for pattern in scope)


@dataclass(frozen=True)
class Owed:
    """What one channel has yet to hear of, and what it muted (recorded, never posted)."""

    channel_id: str
    post: tuple[Task, ...]
    muted: tuple[Task, ...]


def owed(
    routed: Mapping[str, Sequence[Task]],
    announced: Mapping[str, set[str]],
    muted_domains: Mapping[str, set[str]],
) -> list[Owed]:
    """Per channel, the routed failures not announced there before, split by mutes."""
    result = []
    for channel, tasks in sorted(routed.items()):
        seen = announced.get(channel, set())
        fresh = [task for task in tasks if task.task_id not in seen]
        if not fresh:
            continue
        mutes = muted_domains.get(channel)
        if not mutes:
            result.append(Owed(channel, tuple(fresh), ()))
            continue
        muted = tuple(t for t in fresh if any(domain_matches(m, t.domain) for m in mutes))
        post = tuple(t for t in fresh if t not in muted)
        result.append(Owed(channel, post, muted))
    return result


def next_high_water(window_end: datetime, undelivered: Iterable[Task]) -> datetime:
    """The mark after a cycle: its end, held back to the oldest failure still owed to anyone."""
    pending = [task.created for task in undelivered]
    return min([window_end, *pending])
