"""The emulator's tasks and quotas: how tasks move Pending → Refreshing → Complete or Failed.

A task's state is a function of its age, so reading it needs only the current time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cdn.emulator.faults import ApiFault
from bot.core.tasks import HISTORY_DAYS, format_api_time

FAILURE_DESCRIPTIONS = ("Origin Timeout", "Origin Return StatusCode 5XX", "Internal Error")
# Share of a task's life spent queued before it starts refreshing.
PENDING_SHARE = 0.1

# Daily quotas of a fresh account, by the quota name DescribeRefreshQuota uses.
DEFAULT_QUOTAS = {
    "Url": 10_000,
    "Dir": 100,
    "Regex": 20,
    "Preload": 1_000,
    "Block": 100,
    "IgnoreParams": 10_000,
    "PreloadEdge": 20,
}
QUOTA_OF_TYPE = {
    "file": "Url",
    "directory": "Dir",
    "regex": "Regex",
    "IgnoreParams": "IgnoreParams",
    "preload": "Preload",
}


@dataclass(frozen=True)
class LedgerTask:
    """A task as the emulator stores it: its outcome is decided when it is created."""

    task_id: str
    object_path: str
    object_type: str
    created: datetime
    duration: float
    failure: str | None = None

    def state(self, now: datetime) -> tuple[str, int]:
        """(Status, progress percent) at `now`."""
        elapsed = (now - self.created).total_seconds()
        pending = self.duration * PENDING_SHARE
        if elapsed >= self.duration:
            return ("Failed", 0) if self.failure else ("Complete", 100)
        if elapsed < pending:
            return "Pending", 0
        share = (elapsed - pending) / max(self.duration - pending, 1e-9)
        return "Refreshing", min(99, int(share * 100))

    def view(self, now: datetime) -> dict[str, str]:
        """The task as a CDNTask object of the API's JSON."""
        status, progress = self.state(now)
        item = {
            "TaskId": self.task_id,
            "ObjectPath": self.object_path,
            "ObjectType": self.object_type,
            "Status": status,
            "Process": f"{progress}%",
            "CreationTime": format_api_time(self.created),
        }
        if status == "Failed" and self.failure:
            item["Description"] = self.failure
        return item


class Ledger:
    """Every task of one account, newest last, plus the account's daily quota usage."""

    def __init__(
        self,
        *,
        task_seconds: float = 30.0,
        fail_pattern: re.Pattern[str] | None = None,
        quotas: dict[str, int] | None = None,
    ) -> None:
        self.task_seconds = task_seconds
        self.fail_pattern = fail_pattern
        self.quotas = dict(DEFAULT_QUOTAS if quotas is None else quotas)
        self._tasks: list[LedgerTask] = []
        self._last_id = 15_300_000_000
        self._used: dict[str, int] = {}
        self._used_on = ""

    def next_id(self, now: datetime | None = None) -> str:
        """A fresh task ID, increasing like the real ones; given `now`, past any ID an earlier
        run of the emulator made before `now`."""
        self._last_id = max(self._last_id + 1, id_floor(now) if now else 0)
        return str(self._last_id)

    def add(self, task: LedgerTask) -> None:
        """Store a task, keeping creation order."""
        self._tasks.append(task)
        if len(self._tasks) > 1 and self._tasks[-2].created > task.created:
            self._tasks.sort(key=lambda item: (item.created, int(item.task_id)))

    def create(self, paths: list[str], object_type: str, now: datetime) -> list[LedgerTask]:
        """New tasks for `paths`, failing where the fail pattern matches."""
        created = []
        for path in paths:
            failure = None
            if self.fail_pattern is not None and self.fail_pattern.search(path):
                failure = failure_for(path)
            task = LedgerTask(
                self.next_id(now), path, object_type, now, self.task_seconds, failure=failure
            )
            self.add(task)
            created.append(task)
        return created

    def visible(self, now: datetime) -> list[LedgerTask]:
        """Tasks of the last three days, newest first; older ones are gone for good."""
        horizon = now - timedelta(days=HISTORY_DAYS)
        self._tasks = [task for task in self._tasks if task.created >= horizon]
        return [task for task in reversed(self._tasks) if task.created <= now]

    def quota(self, now: datetime) -> dict[str, tuple[int, int]]:
        """Each quota's (daily total, remaining today)."""
        self._roll_day(now)
        return {
            name: (total, max(0, total - self._used.get(name, 0)))
            for name, total in self.quotas.items()
        }

    def consume(self, name: str, count: int, now: datetime, *, code: str) -> None:
        """Take `count` from quota `name`, or fail with `code` if not enough is left."""
        self._roll_day(now)
        left = self.quotas[name] - self._used.get(name, 0)
        if count > left:
            raise ApiFault(400, code, f"The daily {name} quota is exceeded: {left} left today.")
        self._used[name] = self._used.get(name, 0) + count

    def _roll_day(self, now: datetime) -> None:
        today = now.date().isoformat()
        if today != self._used_on:
            self._used_on, self._used = today, {}


def id_floor(now: datetime) -> int:
    """The lowest task ID made at `now`: the milliseconds since 1970, so a restarted emulator
    starts past the IDs of earlier runs. A run gets ahead of the clock only by making more than
    one task a millisecond, at most a day's quotas (about 21,000 tasks: 21 s)."""
    return int(now.timestamp() * 1000)


def failure_for(path: str) -> str:
    """A realistic, stable failure description for a path."""
    digest = hashlib.sha256(path.encode()).digest()
    return FAILURE_DESCRIPTIONS[digest[0] % len(FAILURE_DESCRIPTIONS)]


def matches_fail_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """Compile the --fail-pattern flag."""
    return re.compile(pattern) if pattern else None
