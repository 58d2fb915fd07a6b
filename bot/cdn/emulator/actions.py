"""What each emulated API action does with its (already authenticated) parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cdn.emulator.faults import ApiFault, missing
from bot.cdn.emulator.ledger import QUOTA_OF_TYPE, Ledger
from bot.core.tasks import HISTORY_DAYS, MAX_PAGE_NUMBER, MAX_PAGE_SIZE, host_of

LIST_TYPES = ("file", "directory", "preload", "regex", "IgnoreParams", "block", "unblock")
LIST_STATUSES = ("Complete", "Refreshing", "Failed", "Pending")
REFRESH_TYPES = {"file": "file", "directory": "directory", "regex": "regex"}
REFRESH_TYPES["ignoreparams"] = "IgnoreParams"
REFRESH_TYPES["exquery"] = "IgnoreParams"  # the SDK's docstring spells the 4th kind ExQuery
# Most objects one RefreshObjectCaches or PushObjectCache call may carry, by task type.
PER_REQUEST = {"file": 1000, "IgnoreParams": 1000, "directory": 100, "regex": 1, "preload": 100}
MAX_IDS = 10
MAX_PATH = 1024
MAX_DOMAINS = 10  # distinct domains one write call may name

Params = Mapping[str, str]
Body = dict[str, Any]


def _int_in(params: Params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiFault(
            400,
            f"Invalid{name}.ValueNotSupported",
            f"The specified {name} is invalid: use a whole number from {low} to {high}.",
        )
    return int(raw)


def _api_time(params: Params, name: str) -> datetime:
    try:
        return datetime.strptime(params[name], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        try:
            return datetime.strptime(params[name], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        except ValueError:
            raise ApiFault(
                400, f"Invalid{name}.Malformed", f"The specified {name} is malformed."
            ) from None


def _time_window(params: Params, now: datetime) -> tuple[datetime, datetime]:
    has_start, has_end = bool(params.get("StartTime")), bool(params.get("EndTime"))
    if has_start != has_end:
        raise ApiFault(
            400, "MissingTimeParameter", "The StartTime and EndTime must be both specified."
        )
    horizon = now - timedelta(days=HISTORY_DAYS)
    if not has_start:
        return horizon, now
    start, end = _api_time(params, "StartTime"), _api_time(params, "EndTime")
    if end <= start:
        raise ApiFault(
            400,
            "InvalidEndTime.Mismatch",
            "Specified end time does not match the specified start time.",
        )
    if start > now:
        raise ApiFault(
            400, "InvalidStartTime.ValueNotSupported", "The StartTime cannot be in the future."
        )
    if start < horizon:
        raise ApiFault(400, "InvalidTime", "The query time cannot exceed the last 3 days.")
    return start, end


def _checked_path(path: str) -> str:
    if not path.startswith(("http://", "https://")) or not host_of(path):
        raise ApiFault(400, "InvalidObjectPath.Malformed", "The specified ObjectPath is invalid.")
    if len(path) > MAX_PATH:
        raise ApiFault(
            400, "InvalidObjectPath.ExceedsMaximum", f"An ObjectPath is over {MAX_PATH} characters."
        )
    return path


def _flag(params: Params, name: str) -> bool:
    raw = (params.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise ApiFault(400, f"Invalid{name}.Malformed", f"The specified {name} is invalid.")
    return raw == "true"


def describe_refresh_tasks(ledger: Ledger, params: Params, now: datetime) -> Body:
    """DescribeRefreshTasks: filter, newest first, then page."""
    page = _int_in(params, "PageNumber", 1, 1, MAX_PAGE_NUMBER)
    size = _int_in(params, "PageSize", 20, 1, MAX_PAGE_SIZE)
    object_type = params.get("ObjectType") or None
    status = params.get("Status") or None
    domain = params.get("DomainName") or None
    if object_type is not None and object_type not in LIST_TYPES:
        raise ApiFault(
            400, "InvalidObjectType.ValueNotSupported", "The specified ObjectType is invalid."
        )
    if status is not None and status not in LIST_STATUSES:
        raise ApiFault(400, "InvalidStatus.ValueNotSupported", "The specified Status is invalid.")
    if (domain or status) and not object_type:
        raise ApiFault(
            400,
            "MissingParameter.ObjectType",
            "The ObjectType parameter is required if DomainName or Status is specified.",
        )
    if domain and "," in domain:
        raise ApiFault(400, "DomainNameOverLimit", "You can specify only one domain name.")
    task_id = params.get("TaskId") or None
    if task_id is not None and not task_id.isdigit():
        raise ApiFault(400, "InvalidTaskId.Malformed", "The specified TaskId is invalid.")
    path = params.get("ObjectPath") or None
    if path is not None:
        _checked_path(path)
    start, end = _time_window(params, now)

    matched = [
        task
        for task in ledger.visible(now)
        if start <= task.created <= end
        and (task_id is None or task.task_id == task_id)
        and (path is None or task.object_path == path)
        and (object_type is None or task.object_type == object_type)
        and (domain is None or host_of(task.object_path) == domain.lower())
        and (status is None or task.state(now)[0] == status)
    ]
    chosen = matched[(page - 1) * size : page * size]
    return {
        "PageNumber": page,
        "PageSize": size,
        "TotalCount": len(matched),
        "Tasks": {"CDNTask": [task.view(now) for task in chosen]},
    }


def describe_refresh_task_by_id(ledger: Ledger, params: Params, now: datetime) -> Body:
    """DescribeRefreshTaskById: up to ten comma-separated IDs, flat task list."""
    raw = params.get("TaskId", "")
    if not raw:
        raise missing("TaskId")
    ids = [part.strip() for part in raw.split(",")]
    if len(ids) > MAX_IDS or not all(part.isdigit() for part in ids):
        raise ApiFault(400, "InvalidTaskId.Malformed", "The specified TaskId is invalid.")
    wanted = set(ids)
    found = [task.view(now) for task in ledger.visible(now) if task.task_id in wanted]
    return {"TotalCount": len(found), "Tasks": found}


def _paths(params: Params) -> list[str]:
    raw = params.get("ObjectPath", "")
    paths = [line.strip() for line in raw.replace("\r", "\n").split("\n") if line.strip()]
    if not paths:
        raise missing("ObjectPath")
    return paths


def _submit(ledger: Ledger, paths: list[str], object_type: str, now: datetime, *, code: str) -> str:
    if len(paths) > PER_REQUEST[object_type]:
        raise ApiFault(
            400,
            "SingleRequest.OverLimit",
            f"At most {PER_REQUEST[object_type]} objects of type {object_type} per request.",
        )
    for path in paths:
        _checked_path(path)
    if len({host_of(path) for path in paths}) > MAX_DOMAINS:
        raise ApiFault(
            400, "SingleRequest.OverLimit", f"At most {MAX_DOMAINS} domains per request."
        )
    for path in paths:
        if object_type == "directory" and not path.endswith("/"):
            raise ApiFault(
                400, "InvalidObjectPath.Malformed", "A directory to refresh must end with '/'."
            )
    ledger.consume(QUOTA_OF_TYPE[object_type], len(paths), now, code=code)
    return ",".join(task.task_id for task in ledger.create(paths, object_type, now))


def refresh_object_caches(ledger: Ledger, params: Params, now: datetime) -> Body:
    """RefreshObjectCaches: one task per newline-separated path."""
    paths = _paths(params)
    object_type = REFRESH_TYPES.get((params.get("ObjectType") or "File").lower())
    if object_type is None:
        raise ApiFault(400, "InvalidObjectType.Malformed", "The specified ObjectType is invalid.")
    _flag(params, "Force")  # only re-fetches more eagerly; the emulated task is the same
    ids = _submit(ledger, paths, object_type, now, code="QuotaExceeded.Refresh")
    return {"RefreshTaskId": ids}


def push_object_cache(ledger: Ledger, params: Params, now: datetime) -> Body:
    """PushObjectCache: one prefetch task per newline-separated URL."""
    paths = _paths(params)
    area = params.get("Area")
    if area and area not in ("domestic", "overseas"):
        raise ApiFault(400, "InvalidArea", "Area must be domestic or overseas.")
    _flag(params, "L2Preload")
    return {"PushTaskId": _submit(ledger, paths, "preload", now, code="QuotaExceeded.Preload")}


DOMAIN_SEARCHES: dict[str, Callable[[str, str], bool]] = {
    "full_match": lambda name, wanted: name == wanted,
    "suf_match": lambda name, wanted: name.endswith(wanted),
    "pre_match": lambda name, wanted: name.startswith(wanted),
    "fuzzy_match": lambda name, wanted: wanted in name,
}


def describe_user_domains(ledger: Ledger, params: Params, now: datetime) -> Body:
    """DescribeUserDomains: the account's domains (here: every host its tasks name), searched
    by DomainName (full match unless DomainSearchType says otherwise), paged."""
    size = _int_in(params, "PageSize", 20, 1, 500)
    number = _int_in(params, "PageNumber", 1, 1, MAX_PAGE_NUMBER)
    wanted = (params.get("DomainName") or "").lower()
    search = DOMAIN_SEARCHES.get(params.get("DomainSearchType") or "full_match")
    if search is None:
        raise ApiFault(400, "InvalidDomainSearchType", "The specified DomainSearchType is invalid.")
    domains = sorted({host_of(task.object_path) for task in ledger.visible(now)})
    found = [d for d in domains if not wanted or search(d, wanted)]
    page = found[(number - 1) * size : number * size]
    return {
        "Domains": {
            "PageData": [
                {"DomainName": d, "DomainStatus": "online", "CdnType": "web"} for d in page
            ]
        },
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
    }


def describe_refresh_quota(ledger: Ledger, params: Params, now: datetime) -> Body:
    """DescribeRefreshQuota: every number as a string, as the real API sends them."""
    del params
    body: Body = {}
    for name, (total, remain) in ledger.quota(now).items():
        body[f"{name}Quota"] = str(total)
        body[f"{name}Remain"] = str(remain)
    return body


ACTIONS: dict[str, Callable[[Ledger, Params, datetime], Body]] = {
    "DescribeRefreshTasks": describe_refresh_tasks,
    "DescribeRefreshTaskById": describe_refresh_task_by_id,
    "RefreshObjectCaches": refresh_object_caches,
    "PushObjectCache": push_object_cache,
    "DescribeRefreshQuota": describe_refresh_quota,
    "DescribeUserDomains": describe_user_domains,
}
