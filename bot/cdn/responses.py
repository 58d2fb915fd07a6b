"""The API's JSON bodies turned into domain values; anything off-shape is a MalformedResponse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.core.tasks import (
    CreatedTasks,
    ObjectType,
    RefreshQuota,
    Status,
    Task,
    TaskPage,
    parse_api_time,
    parse_progress,
)
from bot.errors import MalformedResponse

# Exact spellings first: a dict lookup per row is far cheaper than an Enum call.
_STATUSES: dict[str, Status] = {status.value: status for status in Status}
_TYPES: dict[str, ObjectType] = {kind.value: kind for kind in ObjectType}


def _task(item: Mapping[str, Any]) -> Task:
    status, object_type = str(item["Status"]), str(item["ObjectType"])
    return Task(
        task_id=str(item["TaskId"]),
        object_path=str(item["ObjectPath"]),
        # Task itself matches other spellings, and keeps a type newer than this code as it is.
        object_type=_TYPES.get(object_type, object_type),
        status=_STATUSES.get(status) or Status(status),
        progress=parse_progress(item.get("Process")),
        created=parse_api_time(str(item["CreationTime"])),
        description=item.get("Description") or None,
    )


def _task_items(tasks: object) -> list[Mapping[str, Any]]:
    # DescribeRefreshTasks wraps the list in {"CDNTask": [...]}; DescribeRefreshTaskById does not.
    if isinstance(tasks, Mapping):
        tasks = tasks.get("CDNTask", [])
    if tasks is None:
        return []
    if not isinstance(tasks, list) or not all(isinstance(item, Mapping) for item in tasks):
        raise TypeError("Tasks is not a list of objects")
    return tasks


def _malformed(action: str, body: Mapping[str, Any]) -> MalformedResponse:
    return MalformedResponse(
        action, code="MalformedBody", request_id=str(body.get("RequestId", ""))
    )


def task_page(action: str, body: Mapping[str, Any], *, page_size: int | None = None) -> TaskPage:
    """A DescribeRefreshTasks or DescribeRefreshTaskById body as a TaskPage."""
    try:
        tasks = tuple(_task(item) for item in _task_items(body.get("Tasks")))
        size = int(body.get("PageSize") or page_size or max(len(tasks), 1))
        return TaskPage(
            tasks=tasks,
            page_number=int(body.get("PageNumber") or 1),
            page_size=max(size, 1),
            total_count=int(body.get("TotalCount", len(tasks))),
            request_ids=(str(body.get("RequestId", "")),),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise _malformed(action, body) from exc


def submission(action: str, body: Mapping[str, Any], *, id_field: str) -> CreatedTasks:
    """A RefreshObjectCaches/PushObjectCache body: comma-separated task IDs."""
    try:
        ids = str(body[id_field])
        return CreatedTasks(
            task_ids=tuple(part.strip() for part in ids.split(",") if part.strip()),
            request_id=str(body.get("RequestId", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(action, body) from exc


_QUOTA_FIELDS = {
    "url": "Url",
    "dir": "Dir",
    "regex": "Regex",
    "preload": "Preload",
    "block": "Block",
    "ignore_params": "IgnoreParams",
    "preload_edge": "PreloadEdge",
}


def refresh_quota(action: str, body: Mapping[str, Any]) -> RefreshQuota:
    """DescribeRefreshQuota's body (every number a string) as a RefreshQuota."""
    values: dict[str, int] = {}
    try:
        for ours, theirs in _QUOTA_FIELDS.items():
            for suffix in ("quota", "remain"):
                raw = body.get(f"{theirs}{suffix.capitalize()}")
                if raw is None and ours == "preload_edge":
                    continue
                values[f"{ours}_{suffix}"] = int(str(raw))
        return RefreshQuota(**values)
    except (TypeError, ValueError, ValidationError) as exc:
        raise _malformed(action, body) from exc


def domain_names(action: str, body: Mapping[str, Any]) -> tuple[str, ...]:
    """DescribeUserDomains' body: the domain names of its page, as listed."""
    try:
        rows = body["Domains"]["PageData"]
        return tuple(str(row["DomainName"]).lower() for row in rows)
    except (KeyError, TypeError) as exc:
        raise _malformed(action, body) from exc
