"""TaskQuery → the fewest upstream calls that answer it, and their answers → one page.

Three strategies:
- DIRECT: the API can answer the query as it is, one DescribeRefreshTasks call for the page.
- MERGE: `domain:`/`status:` without `type:` (the API demands ObjectType then): one stream per
  type. Page n of the newest-first merge holds only items from the first n·size of each stream,
  so each stream is read to that depth and no further, and TotalCount is the streams' sum.
  The first page of every stream comes first; its totals say which further pages exist
  (`follow_up`). A merge reads at most MERGE_DEPTH rows per stream: deeper pages are refused
  with advice to add `type:` (a single-type page is one call at any depth).
- LOOKUP: task IDs, ten per DescribeRefreshTaskById call; the other filters apply locally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.query import TaskQuery
from bot.core.tasks import (
    IDS_PER_LOOKUP,
    MAX_PAGE_SIZE,
    ObjectType,
    Task,
    TaskListRequest,
    TaskPage,
    domain_matches,
    newest_first,
)
from bot.core.timeframe import oldest_start
from bot.errors import InvalidQuery, QueryTooCostly, QueryTooDeep

DEFAULT_FAN_OUT = (ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD)
# How deep a merged list is read (rows per stream: ten calls each) before `type:` is needed.
MERGE_DEPTH = 1000
# Upstream calls one command may make, whatever it asks: the ceiling on what one person can
# cost everyone else (a merge to MERGE_DEPTH over the default three types is 30).
CALL_BUDGET = 40


@dataclass(frozen=True)
class IdLookup:
    """One DescribeRefreshTaskById call."""

    task_ids: tuple[str, ...]


Call = TaskListRequest | IdLookup


class Strategy(StrEnum):
    """How a plan's answers become the page."""

    DIRECT = "direct"
    MERGE = "merge"
    LOOKUP = "lookup"


@dataclass(frozen=True)
class Plan:
    """The calls that answer `query`, and how to combine their answers."""

    query: TaskQuery
    strategy: Strategy
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class Answer:
    """A page of tasks, the plan behind it, and how old its oldest part is (0 = all live)."""

    page: TaskPage
    plan: Plan
    age: float
    domains: tuple[str, ...] = ()  # what a `domain:*.x` query covered
    # Rows that came from the bot's history, not the API: task ID → when it was last seen.
    archived: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """True when every part was fetched just now."""
        return self.age == 0

    @property
    def covered(self) -> tuple[ObjectType, ...]:
        """The task types a merged (fanned-out) answer looked at; empty otherwise."""
        if self.plan.strategy is not Strategy.MERGE:
            return ()
        kinds = (call.object_type for call in self.plan.calls if isinstance(call, TaskListRequest))
        return tuple(dict.fromkeys(kind for kind in kinds if kind is not None))


class TaskFinder(Protocol):
    """Whatever answers task queries (the CDN client behind its cache, in production)."""

    async def __call__(self, query: TaskQuery, *, fresh: bool = False, caller: str = "") -> Answer:
        """The page `query` asks for; `fresh` skips cached answers; `caller` is who waits."""
        ...


def _window(query: TaskQuery, now: datetime) -> tuple[datetime | None, datetime | None]:
    if query.since is None and query.until is None:
        return None, None  # the API's default: the whole three days
    earliest = oldest_start(now)
    start = max(query.since or earliest, earliest)
    end = query.until or now.replace(microsecond=0)
    return start, end


def plan_calls(
    query: TaskQuery, *, now: datetime, fan_out: Sequence[ObjectType] = DEFAULT_FAN_OUT
) -> Plan:
    """The calls answering `query` at `now`; `fan_out` is the type set for MERGE."""
    if query.task_ids:
        ids = query.task_ids
        batches = [ids[i : i + IDS_PER_LOOKUP] for i in range(0, len(ids), IDS_PER_LOOKUP)]
        return Plan(query, Strategy.LOOKUP, tuple(IdLookup(batch) for batch in batches))
    start, end = _window(query, now)
    if start is not None and end is not None and end <= start:
        return Plan(query, Strategy.MERGE, ())  # the whole window has left the API's history
    common = {
        "object_path": query.object_path,
        "domain_name": query.domain,
        "status": query.status,
        "start_time": start,
        "end_time": end,
        "resource_group_id": query.resource_group,
    }
    if query.object_type is not None or (query.domain is None and query.status is None):
        request = TaskListRequest(
            **common, object_type=query.object_type, page_number=query.page, page_size=query.size
        )
        return Plan(query, Strategy.DIRECT, (request,))
    depth = query.page * query.size
    if depth > MERGE_DEPTH:
        raise QueryTooDeep(page=query.page, size=query.size, limit=MERGE_DEPTH)
    first = min(depth, MAX_PAGE_SIZE)
    calls = tuple(
        TaskListRequest(**common, object_type=kind, page_number=1, page_size=first)
        for kind in dict.fromkeys(fan_out)
    )
    return Plan(query, Strategy.MERGE, calls)


def follow_up(plan: Plan, first: Sequence[TaskPage]) -> Plan:
    """`plan` grown by the further pages its first answers (`first`, one per call) show exist.

    Only a merged page deeper than one call reads on, and only as deep as each stream goes;
    a page past the end of every stream needs nothing more.
    """
    query = plan.query
    depth = query.page * query.size
    if plan.strategy is not Strategy.MERGE or depth <= MAX_PAGE_SIZE:
        return plan
    if sum(page.total_count for page in first) <= (query.page - 1) * query.size:
        return plan
    more = []
    for call, page in zip(plan.calls, first, strict=True):
        assert isinstance(call, TaskListRequest)
        pages = -(-min(depth, page.total_count) // MAX_PAGE_SIZE)
        more += [call.model_copy(update={"page_number": n}) for n in range(2, pages + 1)]
    return Plan(query, plan.strategy, plan.calls + tuple(more))


def check_budget(plan: Plan, *, budget: int = CALL_BUDGET) -> None:
    """Raise QueryTooCostly when `plan` makes more upstream calls than one command may."""
    if len(plan.calls) > budget:
        raise QueryTooCostly(calls=len(plan.calls), budget=budget)


def _newest_first(tasks: Sequence[Task]) -> list[Task]:
    unique = {task.task_id: task for task in tasks}  # the last answer about a task wins
    return sorted(unique.values(), key=newest_first)


def _matches(task: Task, query: TaskQuery) -> bool:
    return (
        (query.object_path is None or task.object_path == query.object_path)
        and (query.object_type is None or task.object_type == query.object_type)
        and (query.domain is None or task.domain == query.domain)
        and (query.status is None or task.status is query.status)
        and (query.since is None or task.created >= query.since)
        and (query.until is None or task.created <= query.until)
        and (not query.within or any(domain_matches(p, task.domain) for p in query.within))
    )


def merge_pages(plan: Plan, responses: Sequence[TaskPage]) -> TaskPage:
    """The page the query asked for, from the answers to `plan.calls` (in the same order)."""
    if len(responses) != len(plan.calls):
        raise ValueError(f"{len(plan.calls)} calls but {len(responses)} answers")
    query = plan.query
    request_ids = tuple(rid for response in responses for rid in response.request_ids)
    if plan.strategy is Strategy.DIRECT:
        (only,) = responses
        return TaskPage(only.tasks, query.page, query.size, only.total_count, request_ids)
    if plan.strategy is Strategy.LOOKUP:
        found = [t for r in responses for t in r.tasks if _matches(t, query)]
        ordered = _newest_first(found)
        total = len(ordered)
    else:
        ordered = _newest_first([task for response in responses for task in response.tasks])
        totals: dict[object, int] = {}
        for call, response in zip(plan.calls, responses, strict=True):
            assert isinstance(call, TaskListRequest)
            totals.setdefault(call.object_type, response.total_count)
        total = sum(totals.values())
    first = (query.page - 1) * query.size
    return TaskPage(
        tuple(ordered[first : first + query.size]), query.page, query.size, total, request_ids
    )


# Domains one `domain:*.example.com` query may cover: each is a merge of its own.
WILDCARD_DOMAINS = 10


def across_domains(query: TaskQuery, domains: Sequence[str]) -> tuple[TaskQuery, ...]:
    """The one-domain queries answering `query`'s `domain:*.x` over the account's `domains`
    (those it covers, within the channel's scope): each read to the page's depth, one call a
    stream, so the pages can be merged exactly."""
    pattern = query.domain or ""
    covered = [
        d
        for d in dict.fromkeys(domains)
        if domain_matches(pattern, d)
        and (not query.within or any(domain_matches(p, d) for p in query.within))
    ]
    depth = query.page * query.size
    if depth > MAX_PAGE_SIZE:
        deepest = max(1, MAX_PAGE_SIZE // query.size)
        raise InvalidQuery(
            "domain",
            pattern,
            f"across several domains I read the newest {MAX_PAGE_SIZE} tasks (page {deepest} "
            f"at `size:{query.size}`); name one domain to page deeper",
        )
    if len(covered) > WILDCARD_DOMAINS:
        listed = ", ".join(f"`{d}`" for d in covered[:3])
        raise InvalidQuery(
            "domain",
            pattern,
            f"that covers {len(covered)} domains, more than {WILDCARD_DOMAINS}: name one, "
            f"like {listed}",
        )
    return tuple(query.model_copy(update={"domain": d, "page": 1, "size": depth}) for d in covered)


def merge_domains(query: TaskQuery, parts: Sequence[Answer]) -> Answer:
    """One page of `query` from its one-domain answers (`across_domains`' queries)."""
    ordered = _newest_first([task for part in parts for task in part.page.tasks])
    first = (query.page - 1) * query.size
    page = TaskPage(
        tuple(ordered[first : first + query.size]),
        query.page,
        query.size,
        sum(part.page.total_count for part in parts),
        tuple(rid for part in parts for rid in part.page.request_ids),
    )
    calls = tuple(call for part in parts for call in part.plan.calls)
    domains = tuple(part.plan.query.domain or "" for part in parts)
    return Answer(
        page,
        Plan(query, Strategy.MERGE, calls),
        max((part.age for part in parts), default=0.0),
        domains=domains,
    )
