"""Domain values for refresh and prefetch tasks, as the bot sees them whatever the API spelt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

# The API keeps history for three days; anything older is gone upstream.
HISTORY_DAYS = 3
MAX_PAGE_SIZE = 100
MAX_PAGE_NUMBER = 100_000
DEFAULT_PAGE_SIZE = 20
IDS_PER_LOOKUP = 10  # task IDs one DescribeRefreshTaskById call takes

_E = TypeVar("_E", bound=StrEnum)


class Status(StrEnum):
    """Where a task is in its life."""

    PENDING = "Pending"
    REFRESHING = "Refreshing"
    COMPLETE = "Complete"
    FAILED = "Failed"

    @classmethod
    def _missing_(cls, value: object) -> Status | None:
        return _by_casefold(cls, value)


# The statuses a task ends in, and those it passes through on the way there.
FINAL = frozenset({Status.COMPLETE, Status.FAILED})
UNFINISHED = frozenset({Status.PENDING, Status.REFRESHING})


class ObjectType(StrEnum):
    """What a task acts on; the seed has the first three, newer API versions the rest."""

    FILE = "file"
    DIRECTORY = "directory"
    PRELOAD = "preload"
    REGEX = "regex"
    IGNORE_PARAMS = "IgnoreParams"
    BLOCK = "block"
    UNBLOCK = "unblock"

    @classmethod
    def _missing_(cls, value: object) -> ObjectType | None:
        return _by_casefold(cls, value)


class FailureReason(StrEnum):
    """Why a task failed, normalised from the several spellings the API and its docs use."""

    INTERNAL_ERROR = "Internal Error"
    ORIGIN_TIMEOUT = "Origin Timeout"
    ORIGIN_5XX = "Origin Return StatusCode 5XX"
    OTHER = "Other"


def _by_casefold(enum: type[_E], value: object) -> _E | None:
    exact = enum._value2member_map_.get(value)
    if exact is not None:
        return cast(_E, exact)
    if isinstance(value, str):
        for member in enum:
            if member.value.casefold() == value.strip().casefold():
                return member
    return None


_LETTERS_ONLY = re.compile(r"[^a-z0-9]")


def failure_reason(description: str | None) -> FailureReason | None:
    """Map the API's `Description` ("Internal Error", "InternalError", ...) to a reason."""
    if not description or not description.strip():
        return None
    letters = _LETTERS_ONLY.sub("", description.casefold())
    if "internalerror" in letters:
        return FailureReason.INTERNAL_ERROR
    if "origintimeout" in letters or "timeout" in letters:
        return FailureReason.ORIGIN_TIMEOUT
    if "5xx" in letters or re.search(r"5\d\d", letters):
        return FailureReason.ORIGIN_5XX
    return FailureReason.OTHER


def parse_progress(text: str | float | int | None) -> float:
    """'45%' → 45.0; anything unreadable counts as 0, and the value is clamped to 0..100."""
    if text is None:
        return 0.0
    if isinstance(text, str) and text[-1:] == "%" and text[:-1].isdigit():
        return min(100.0, float(text[:-1]))  # the usual "45%"
    if isinstance(text, int | float):
        value = float(text)
    else:
        try:
            value = float(text.strip().rstrip("%").strip() or 0)
        except ValueError:
            return 0.0
    if value != value:  # NaN
        return 0.0
    return min(100.0, max(0.0, value))


def parse_api_time(text: str) -> datetime:
    """The API's `yyyy-MM-ddTHH:mm:ssZ` (or another ISO form) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def format_api_time(moment: datetime) -> str:
    """An aware datetime in the API's `yyyy-MM-ddTHH:mm:ssZ` form."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Task:
    """One refresh or prefetch task; built for every row of every page, so kept light."""

    task_id: str
    object_path: str
    # Newer API versions add types; an unknown one is kept as the API spelt it, never dropped.
    object_type: ObjectType | str
    status: Status
    progress: float
    created: datetime
    description: str | None = None

    def __post_init__(self) -> None:
        # Conversions only where needed: the parser already hands over the right types.
        if self.created.tzinfo is None:
            raise ValueError("creation time must carry a timezone")
        if not 0 <= self.progress <= 100:
            raise ValueError(f"progress {self.progress} is not a percentage")
        if self.created.tzinfo is not UTC:
            object.__setattr__(self, "created", self.created.astimezone(UTC))
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if not isinstance(self.object_type, ObjectType):
            known = _by_casefold(ObjectType, self.object_type)
            object.__setattr__(self, "object_type", known or self.object_type)

    @property
    def reason(self) -> FailureReason | None:
        """The normalised failure reason; None unless the task failed."""
        return failure_reason(self.description) if self.status is Status.FAILED else None

    @property
    def domain(self) -> str:
        """The host of the object path, lower-cased ('' when the path has none)."""
        return host_of(self.object_path)


def host_of(url: str) -> str:
    """'https://Img.Example.com:443/a' → 'img.example.com'."""
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0].lstrip("[").lower()
    return host.split(":", 1)[0].lower()


def domain_matches(pattern: str, host: str) -> bool:
    """`example.com` matches only itself; `*.example.com` also matches every subdomain."""
    if pattern.startswith("*."):
        base = pattern[2:]
        return host == base or host.endswith("." + base)
    return host == pattern


def newest_first(task: Task) -> tuple[float, int]:
    """Sort key of the API's order: newest created first, then the higher (later) task ID."""
    number = int(task.task_id) if task.task_id.isdigit() else 0
    return (-task.created.timestamp(), -number)


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of tasks plus where it sits in the whole result."""

    tasks: tuple[Task, ...]
    page_number: int
    page_size: int
    total_count: int
    request_ids: tuple[str, ...] = ()

    @property
    def page_count(self) -> int:
        """How many pages the whole result has (at least one, even when empty)."""
        return max(1, -(-self.total_count // self.page_size))


class TaskListRequest(BaseModel):
    """The parameters of one DescribeRefreshTasks call, exactly as the API takes them."""

    model_config = ConfigDict(frozen=True)

    task_id: str | None = None
    object_path: str | None = None
    object_type: ObjectType | None = None
    domain_name: str | None = None
    status: Status | None = None
    page_number: int = Field(default=1, ge=1, le=MAX_PAGE_NUMBER)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    start_time: datetime | None = None
    end_time: datetime | None = None
    resource_group_id: str | None = None

    def api_params(self) -> dict[str, str]:
        """The request's query parameters, leaving out what is unset."""
        params = {
            "TaskId": self.task_id,
            "ObjectPath": self.object_path,
            "ObjectType": self.object_type.value if self.object_type else None,
            "DomainName": self.domain_name,
            "Status": self.status.value if self.status else None,
            "PageNumber": str(self.page_number),
            "PageSize": str(self.page_size),
            "StartTime": format_api_time(self.start_time) if self.start_time else None,
            "EndTime": format_api_time(self.end_time) if self.end_time else None,
            "ResourceGroupId": self.resource_group_id,
        }
        return {name: value for name, value in params.items() if value is not None}


class RefreshQuota(BaseModel):
    """What DescribeRefreshQuota reports: each kind's daily quota and what is left of it."""

    model_config = ConfigDict(frozen=True)

    url_quota: int
    url_remain: int
    dir_quota: int
    dir_remain: int
    regex_quota: int
    regex_remain: int
    preload_quota: int
    preload_remain: int
    block_quota: int
    block_remain: int
    ignore_params_quota: int
    ignore_params_remain: int
    preload_edge_quota: int = 0
    preload_edge_remain: int = 0


class CreatedTasks(BaseModel):
    """What RefreshObjectCaches or PushObjectCache created: one task ID per object path."""

    model_config = ConfigDict(frozen=True)

    task_ids: tuple[str, ...]
    request_id: str
