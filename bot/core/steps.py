"""The Workflow Builder steps' inputs and outputs, decided purely.

`cdn_refresh_urls` turns its inputs into a Submission made for a named person (`requested_by`,
judged like that person typing `/cdn refresh`); `cdn_task_status` turns task IDs into counts.
Inputs arrive as Workflow Builder filled them in and are checked like typed text: every refusal
is an InvalidQuery naming the input and saying what to put there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.filters import MAX_TASK_IDS
from bot.core.submission import KIND_WORDS, Action, Submission, parse_submission
from bot.core.tasks import Status, Task
from bot.core.tokens import normalise
from bot.errors import InvalidQuery

REFRESH_STEP = "cdn_refresh_urls"
STATUS_STEP = "cdn_task_status"
# Each step's inputs (whether required) and outputs, as manifest.workflows.yml declares them.
REFRESH_INPUTS = {
    "urls": True,
    "requested_by": True,
    "object_type": False,
    "force": False,
    "channel": False,
}
REFRESH_OUTPUTS = ("task_ids", "submitted")
STATUS_INPUTS = {"task_ids": True, "requested_by": False, "channel": False}
STATUS_OUTPUTS = ("status", "complete", "failed", "refreshing")
_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
_CHANNEL = re.compile(r"[CGD][A-Z0-9]{2,20}")
_TASK_ID = re.compile(r"[0-9]{1,20}")
_IDS_SEPARATOR = re.compile(r"[\s,;]+")
# parse_submission names its fields as `/cdn refresh` does; the step's inputs are named so.
_INPUT_OF = {"url": "urls", "domain": "urls", "type": "object_type", "force": "force"}
# `/cdn refresh` hints say `type:dir`; a step's author sets the object_type input instead.
_TYPE_WORD = re.compile(r"`type:(\w+)`")
_TEXT_LIMIT = 200  # characters of an input echoed in an error


@dataclass(frozen=True)
class RefreshRequest:
    """What `cdn_refresh_urls` was asked: the paths, for whom, judged in which channel (None:
    by the allow-lists' people and groups alone)."""

    submission: Submission
    requested_by: str
    channel: str | None = None


@dataclass(frozen=True)
class StatusRequest:
    """What `cdn_task_status` was asked: task IDs, and optionally for whom and where."""

    task_ids: tuple[str, ...]
    requested_by: str | None = None
    channel: str | None = None


def refresh_request(inputs: Mapping[str, Any]) -> RefreshRequest:
    """`cdn_refresh_urls`' inputs → a RefreshRequest, or InvalidQuery naming the input."""
    requested_by = _user(inputs.get("requested_by"), required=True)
    assert requested_by is not None
    channel = _channel(inputs.get("channel"))
    urls = inputs.get("urls")
    if not isinstance(urls, str) or not urls.strip():
        raise InvalidQuery("urls", "", "give the URLs to refresh, one per line")
    for word in normalise(urls).split():
        if word.strip(",") and not re.match(r"https?://", word, re.IGNORECASE):
            raise InvalidQuery(
                "urls", _shown(word), "each line must be one http:// or https:// URL, nothing else"
            )
    words = [urls, f"type:{_kind(inputs.get('object_type'))}"]
    if _flag(inputs.get("force")):
        words.append("force")
    try:
        submission = parse_submission(Action.REFRESH, "\n".join(words))
    except InvalidQuery as error:
        hint = _TYPE_WORD.sub(r"object_type `\1`", error.hint)
        raise InvalidQuery(_INPUT_OF.get(error.field, error.field), error.value, hint) from None
    return RefreshRequest(submission, requested_by, channel)


def status_request(inputs: Mapping[str, Any]) -> StatusRequest:
    """`cdn_task_status`' inputs → a StatusRequest, or InvalidQuery naming the input."""
    raw = inputs.get("task_ids")
    if isinstance(raw, list):  # a list variable from an earlier step
        raw = ",".join(str(item) for item in raw)
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidQuery("task_ids", "", "give task IDs, like the task_ids of cdn_refresh_urls")
    ids = tuple(dict.fromkeys(part for part in _IDS_SEPARATOR.split(raw.strip()) if part))
    bad = next((part for part in ids if not _TASK_ID.fullmatch(part)), None)
    if bad is not None:
        raise InvalidQuery(
            "task_ids", _shown(bad), "a task ID is a number like 704225667; separate them by commas"
        )
    if len(ids) > MAX_TASK_IDS:
        raise InvalidQuery(
            "task_ids", f"{len(ids)} IDs", f"look up at most {MAX_TASK_IDS} tasks in one step"
        )
    return StatusRequest(
        ids, _user(inputs.get("requested_by"), required=False), _channel(inputs.get("channel"))
    )


@dataclass(frozen=True)
class TaskCounts:
    """Where the asked tasks are: counts by state (`refreshing` counts Pending ones too, as
    still running), and the IDs that were not found."""

    complete: int
    failed: int
    refreshing: int
    missing: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """One word for all of them: `failed` if any failed, else `refreshing` while any runs,
        else `complete`."""
        if self.failed:
            return "failed"
        return "refreshing" if self.refreshing else "complete"

    def outputs(self) -> dict[str, Any]:
        """The step's outputs, as the manifest declares them."""
        return {
            "status": self.status,
            "complete": self.complete,
            "failed": self.failed,
            "refreshing": self.refreshing,
        }


def task_counts(wanted: Sequence[str], found: Sequence[Task]) -> TaskCounts:
    """How the `wanted` tasks stand, from what a lookup `found` (each task counted once)."""
    known = {task.task_id: task for task in found if task.task_id in set(wanted)}
    states = Counter(task.status for task in known.values())
    return TaskCounts(
        complete=states[Status.COMPLETE],
        failed=states[Status.FAILED],
        refreshing=states[Status.REFRESHING] + states[Status.PENDING],
        missing=tuple(task_id for task_id in wanted if task_id not in known),
    )


def _user(value: object, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidQuery(
                "requested_by",
                "",
                "choose the person the refresh is for, like “Person who used this workflow”",
            )
        return None
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise InvalidQuery("requested_by", _shown(str(value)), "that is not a Slack user ID")
    return value


def _channel(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise InvalidQuery("channel", _shown(str(value)), "that is not a Slack channel ID")
    return value


def _kind(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "file"
    word = str(value).strip().lower()
    if word not in KIND_WORDS:
        listed = ", ".join(KIND_WORDS)
        raise InvalidQuery("object_type", _shown(str(value)), f"use one of {listed}")
    return word


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
        return value.strip().lower() == "true"
    if value is None:
        return False
    raise InvalidQuery("force", _shown(str(value)), "force is true or false")


def _shown(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
