"""The JSON forms of cached answers (never pickle: replicas of different versions read each
other's values, and a value must never be able to run code)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.core.tasks import RefreshQuota, Task, TaskPage

T = TypeVar("T")


@dataclass(frozen=True)
class JsonForm(Generic[T]):
    """How one kind of answer is written as JSON and read back; `load` raises ValueError,
    TypeError or KeyError on anything it cannot read."""

    dump: Callable[[T], Any]
    load: Callable[[Any], T]


def _dump_task(task: Task) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "path": task.object_path,
        "type": str(task.object_type),
        "status": task.status.value,
        "progress": task.progress,
        "created": task.created.isoformat(),
        "description": task.description,
    }


def _load_task(data: dict[str, Any]) -> Task:
    return Task(
        task_id=str(data["id"]),
        object_path=str(data["path"]),
        object_type=str(data["type"]),  # Task turns a known spelling back into an ObjectType
        status=data["status"],
        progress=float(data["progress"]),
        created=datetime.fromisoformat(data["created"]),
        description=data["description"],
    )


def _dump_page(page: TaskPage) -> dict[str, Any]:
    return {
        "tasks": [_dump_task(task) for task in page.tasks],
        "page_number": page.page_number,
        "page_size": page.page_size,
        "total_count": page.total_count,
        "request_ids": list(page.request_ids),
    }


def _load_page(data: dict[str, Any]) -> TaskPage:
    return TaskPage(
        tasks=tuple(_load_task(task) for task in data["tasks"]),
        page_number=int(data["page_number"]),
        page_size=int(data["page_size"]),
        total_count=int(data["total_count"]),
        request_ids=tuple(str(request_id) for request_id in data["request_ids"]),
    )


def _load_domains(data: list[Any]) -> tuple[str, ...]:
    if not isinstance(data, list):
        raise TypeError("a list of domain names")
    return tuple(str(name) for name in data)


PAGE: JsonForm[TaskPage] = JsonForm(_dump_page, _load_page)
QUOTA: JsonForm[RefreshQuota] = JsonForm(
    lambda quota: quota.model_dump(mode="json"), RefreshQuota.model_validate
)
DOMAINS: JsonForm[tuple[str, ...]] = JsonForm(list, _load_domains)
