"""Where a submission's tasks stand, and when its progress message may next change: pure.

The tracker reads the tasks and the time; this module says what they add up to (counts,
percent, final or not, what failed and why), whether that differs from what the message shows,
when to look again, and whether Slack's limits let the message change now.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.core.submission import Action, Kind, Submission
from bot.core.tasks import FINAL, Status, Task, host_of
from bot.errors import InvalidQuery

# How long a submission is followed: refreshes take ~5 min, prefetches up to ~30.
CAPS = {Action.REFRESH: timedelta(minutes=30), Action.PREFETCH: timedelta(minutes=60)}
# A response_url takes 5 posts within 30 minutes of the click. The confirmation's own answer
# spends some; progress gets the rest, the last kept for the final state.
RESPONSE_URL_LIFETIME = timedelta(minutes=29)
RESPONSE_URL_USES = 3
RESPONSE_URL_GAP = timedelta(minutes=5)
# chat.update: about one per message every 10 s, and ~50/min per app (kept under 40).
MESSAGE_GAP = timedelta(seconds=10)
APP_UPDATES_PER_MINUTE = 40


@dataclass(frozen=True)
class Cadence:
    """How often to look at a submission's tasks, by how long ago it started."""

    steps: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(minutes=2), timedelta(seconds=10)),
        (timedelta(minutes=10), timedelta(seconds=30)),
    )
    last: timedelta = timedelta(seconds=60)

    def interval(self, elapsed: timedelta) -> timedelta:
        """The wait before the next look, `elapsed` after the start."""
        return next((every for until, every in self.steps if elapsed < until), self.last)


@dataclass(frozen=True)
class Tally:
    """What a submission's tasks add up to at one look."""

    expected: int
    counts: tuple[tuple[Status, int], ...]
    percent: int
    failed: tuple[Task, ...]

    def count(self, status: Status) -> int:
        """How many tasks are in `status` (tasks not seen yet count as pending)."""
        return dict(self.counts).get(status, 0)

    @property
    def final(self) -> bool:
        """Every task has finished, one way or the other."""
        return self.count(Status.COMPLETE) + self.count(Status.FAILED) >= self.expected

    @property
    def shown(self) -> str:
        """What a progress message shows of this tally: equal strings, equal messages."""
        counts = " ".join(f"{status.value[0]}{n}" for status, n in self.counts)
        failed = ",".join(task.task_id for task in self.failed)
        return f"{counts} {self.percent}% {failed}"


def tally(task_ids: Sequence[str], tasks: Iterable[Task]) -> Tally:
    """The tally of the tasks `task_ids` names, from what a lookup found (missing = pending)."""
    wanted = set(task_ids)
    found = {task.task_id: task for task in tasks if task.task_id in wanted}
    statuses: Counter[Status] = Counter(task.status for task in found.values())
    statuses[Status.PENDING] += len(wanted) - len(found)
    done = sum(100.0 if task.status in FINAL else task.progress for task in found.values())
    percent = int(done / len(wanted)) if wanted else 100
    failed = sorted(
        (task for task in found.values() if task.status is Status.FAILED),
        key=lambda task: (task.object_path, task.task_id),
    )
    order = (Status.PENDING, Status.REFRESHING, Status.COMPLETE, Status.FAILED)
    counts = tuple((status, statuses[status]) for status in order)
    return Tally(len(wanted), counts, percent, tuple(failed))


@dataclass(frozen=True)
class Tracked:
    """A submission being followed: where its message is, and what that message shows."""

    id: str
    user: str
    channel: str
    submission: Submission  # the kind and options; `paths` are the ones that went in
    task_ids: tuple[str, ...]
    refused: int
    started_at: datetime
    cap_at: datetime
    message_ts: str | None = None  # the channel message; None: the person's private reply
    response_url: str | None = None
    response_uses: int = 0
    shown: str = ""
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    def cap_reached(self, now: datetime) -> bool:
        """Whether following it any longer is past its cap."""
        return now >= self.cap_at

    def next_look(self, now: datetime, cadence: Cadence) -> datetime:
        """When to look at its tasks again (never past the cap)."""
        return min(now + cadence.interval(now - self.started_at), self.cap_at)

    def may_update(self, now: datetime, *, final: bool) -> bool:
        """Whether its message may change now: a channel message every MESSAGE_GAP, a private
        reply within the response_url's few uses (the last one kept for the final state)."""
        since = now - self.updated_at if self.updated_at is not None else None
        if self.message_ts is not None:
            return since is None or since >= MESSAGE_GAP
        if self.response_url is None:
            return False
        if final:
            return self.response_uses < RESPONSE_URL_USES
        spacious = since is None or since >= RESPONSE_URL_GAP
        return spacious and self.response_uses < RESPONSE_URL_USES - 1

    def updated(self, shown: str, now: datetime, *, final: bool) -> Tracked:
        """The record after its message changed to `shown` at `now`."""
        uses = self.response_uses + (1 if self.message_ts is None else 0)
        return replace(
            self,
            shown=shown,
            updated_at=now,
            response_uses=uses,
            finished_at=now if final else self.finished_at,
        )


def follow(
    submission: Submission,
    task_ids: Sequence[str],
    *,
    id: str,
    user: str,
    channel: str,
    refused: int,
    at: datetime,
    private: bool,
) -> Tracked:
    """A new record for a submission that created `task_ids` at `at`. A `private` one (its
    progress goes through the response_url) stops before the URL expires."""
    cap = at + CAPS[submission.action]
    if private:
        cap = min(cap, at + RESPONSE_URL_LIFETIME)
    return Tracked(id, user, channel, submission, tuple(task_ids), refused, at, cap)


def shown_failed(tracked: Tracked) -> tuple[str, ...]:
    """The failed task IDs its message last showed (`Tally.shown`'s sixth field), so Retry
    reads only those, not every task of a large submission."""
    fields = tracked.shown.split(" ")
    return tuple(filter(None, fields[5].split(","))) if len(fields) > 5 else ()


def retry_of(tracked: Tracked, tasks: Iterable[Task]) -> Submission | None:
    """The submission that resubmits exactly the failed paths among `tasks` (those of
    `tracked`), with the original kind and options; None when nothing failed."""
    ids = set(tracked.task_ids)
    failed = tuple(
        dict.fromkeys(
            task.object_path
            for task in tasks
            if task.task_id in ids and task.status is Status.FAILED
        )
    )
    return replace(tracked.submission, paths=failed) if failed else None


def domains_line(paths: Iterable[str]) -> str:
    """'www.example.com' or 'www.example.com and 2 more domains'."""
    counted = Counter(host_of(path) for path in paths).most_common()
    if not counted:
        return ""
    first = counted[0][0]
    rest = len(counted) - 1
    return first if not rest else f"{first} and {rest} more domain{'s' if rest > 1 else ''}"


@dataclass
class Window:
    """At most `limit` events in any `per`: the app-wide budget of message updates."""

    limit: int = APP_UPDATES_PER_MINUTE
    per: timedelta = timedelta(minutes=1)
    _times: deque[datetime] = field(default_factory=deque)

    def take(self, now: datetime) -> bool:
        """Spend one event at `now` if the window has room; whether it had."""
        while self._times and now - self._times[0] >= self.per:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


# What a task type reported by the API resubmits as, for Retry on notifications.
RETRY_KINDS = {
    "file": (Action.REFRESH, Kind.FILE),
    "directory": (Action.REFRESH, Kind.DIRECTORY),
    "regex": (Action.REFRESH, Kind.REGEX),
    "ignoreparams": (Action.REFRESH, Kind.IGNORE_PARAMS),
    "preload": (Action.PREFETCH, Kind.FILE),
}


def retries_of(tasks: Iterable[Task]) -> tuple[Submission, ...]:
    """The submissions that resubmit the failed `tasks`: one per action and kind, each path
    once; tasks of types that cannot be resubmitted (block, unblock) are left out."""
    grouped: dict[tuple[Action, Kind], dict[str, None]] = {}
    for task in tasks:
        how = RETRY_KINDS.get(str(task.object_type).lower())
        if how is not None and task.status is Status.FAILED:
            grouped.setdefault(how, {})[task.object_path] = None
    return tuple(
        Submission(action, kind, tuple(paths)) for (action, kind), paths in grouped.items()
    )


# A Retry button on a notification carries the task IDs it retries: as many as a button's
# 2,000 characters and a lookup's 100 IDs hold.
MAX_RETRY_IDS = 100
MAX_RETRY_VALUE = 2000
_TASK_ID = re.compile(r"[0-9]{1,20}")


def retry_value(tasks: Iterable[Task]) -> str:
    """The value of a Retry button for the failed `tasks` that can be resubmitted ('' if none)."""
    ids: list[str] = []
    for task in tasks:
        retryable = str(task.object_type).lower() in RETRY_KINDS and task.status is Status.FAILED
        if not retryable or not _TASK_ID.fullmatch(task.task_id) or task.task_id in ids:
            continue
        if len(ids) == MAX_RETRY_IDS or len(",".join([*ids, task.task_id])) > MAX_RETRY_VALUE:
            break
        ids.append(task.task_id)
    return ",".join(ids)


def retry_ids(value: str) -> tuple[str, ...]:
    """A Retry button's value back into task IDs, checked like any input."""
    ids = tuple(dict.fromkeys(part for part in value.split(",") if part))
    if not ids or len(ids) > MAX_RETRY_IDS or not all(map(_TASK_ID.fullmatch, ids)):
        raise InvalidQuery("id", value[:40], "this Retry button is damaged; use `/cdn refresh`")
    return ids
