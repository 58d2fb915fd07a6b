"""Queries on the task history: every task the archiver has seen, upserted by task ID, read
back in the API's order (newest created first, then the higher ID), and pruned by age; plus
the archiver's per-type marks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, case, delete, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.tasks import FINAL, UNFINISHED, ObjectType, Status, Task
from bot.store.columns import iso_text
from bot.store.engine import insert
from bot.store.schema import mark
from bot.store.schema import task_history as table

# A task's end is when it was first seen final: known to within one archiver cycle when it was
# seen running, or seen this soon after it was made. A task first seen final later than this
# (the first start's three days, a bot that was away) ended at a moment nobody saw: None.
FRESH_SIGHTING = timedelta(minutes=3)
# What each archiver mark is called in the `mark` table, after the task type.
MARK_PREFIX = "archive:"
# Task IDs per IN (…): well under either engine's limit on bound parameters.
CHUNK = 500


@dataclass(frozen=True)
class Archived:
    """A task as the history keeps it: as last seen, when first and last seen, and when it was
    first seen Complete or Failed (None while it was not, and when its end went unseen: see
    FRESH_SIGHTING)."""

    task: Task
    first_seen: datetime
    last_seen: datetime
    ended_at: datetime | None


def id_number(task_id: str) -> int:
    """The task ID as the number the API orders by; 0 when it is not one (or too long)."""
    if task_id.isascii() and task_id.isdigit() and len(task_id) <= 18:
        return int(task_id)
    return 0


async def archive(connection: AsyncConnection, tasks: Sequence[Task], seen_at: datetime) -> None:
    """Upsert `tasks` as seen at `seen_at`: a known task keeps its first sighting and the first
    moment it was final; a sighting older than the one kept changes nothing."""
    # The last sighting of a task wins; one statement may not touch a row twice on PostgreSQL.
    latest = {task.task_id: task for task in tasks}
    if not latest:
        return
    rows = [_row(task, seen_at) for task in latest.values()]
    wanted = insert(table, connection.dialect.name)
    new = wanted.excluded
    await connection.execute(
        wanted.on_conflict_do_update(
            index_elements=[table.c.task_id],
            set_={
                "status": new.status,
                "progress": new.progress,
                "description": new.description,
                "last_seen": new.last_seen,
                # Seen running before and final now: it ended since the last sighting.
                "ended_at": func.coalesce(
                    table.c.ended_at,
                    case(
                        (
                            _one_of(table.c.status, UNFINISHED) & _one_of(new.status, FINAL),
                            new.last_seen,
                        ),
                        else_=new.ended_at,
                    ),
                ),
            },
            where=table.c.last_seen <= new.last_seen,
        ),
        rows,
    )


def _one_of(column: ColumnElement[str], statuses: Iterable[Status]) -> ColumnElement[bool]:
    """`column` is one of `statuses`, spelt out in the SQL: an executemany (one row per task)
    takes no list parameters."""
    return or_(*(column == literal_column(f"'{status.value}'") for status in sorted(statuses)))


def _row(task: Task, seen_at: datetime) -> dict[str, object]:
    return {
        "task_id": task.task_id,
        "id_number": id_number(task.task_id),
        "object_path": task.object_path,
        "object_type": str(task.object_type),
        "domain": task.domain,
        "status": task.status.value,
        "progress": task.progress,
        "description": task.description,
        "created": task.created,
        "first_seen": seen_at,
        "last_seen": seen_at,
        "ended_at": (
            seen_at if task.status in FINAL and seen_at - task.created <= FRESH_SIGHTING else None
        ),
    }


async def archived(
    connection: AsyncConnection,
    where: Sequence[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[Archived]]:
    """How many rows match `where`, and the page of them at `offset`, newest created first."""
    total = (
        await connection.execute(select(func.count()).select_from(table).where(*where))
    ).scalar_one()
    if total <= offset or limit <= 0:
        return int(total), []
    query = _newest_first(select(table).where(*where)).offset(offset).limit(limit)
    return int(total), [_archived(row) for row in await connection.execute(query)]


async def by_ids(
    connection: AsyncConnection,
    task_ids: Sequence[str],
    where: Sequence[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[Archived]]:
    """Like `archived`, for rows among `task_ids` (any number of them)."""
    wanted = list(dict.fromkeys(task_ids))
    if len(wanted) <= CHUNK:
        where = [*where, table.c.task_id.in_(wanted)]
        return await archived(connection, where, offset=offset, limit=limit)
    found: list[Archived] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(table).where(*where, table.c.task_id.in_(chunk))
        found += [_archived(row) for row in await connection.execute(query)]
    found.sort(key=_order, reverse=True)
    return len(found), found[offset : offset + max(limit, 0)]


def filters(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    object_type: ObjectType | str | None = None,
    domain: str | None = None,
    status: Status | None = None,
    object_path: str | None = None,
    end_inclusive: bool = True,
) -> list[ColumnElement[bool]]:
    """The conditions for these filters; `end` is inclusive (as the API's EndTime) unless
    `end_inclusive` is False."""
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(table.c.created >= start)
    if end is not None:
        where.append(table.c.created <= end if end_inclusive else table.c.created < end)
    if object_type is not None:
        where.append(table.c.object_type == str(object_type))
    if domain is not None:
        where.append(table.c.domain == domain.strip().lower())
    if status is not None:
        where.append(table.c.status == Status(status).value)
    if object_path is not None:
        where.append(table.c.object_path == object_path)
    return where


async def oldest_first(
    connection: AsyncConnection, where: Sequence[ColumnElement[bool]]
) -> list[Archived]:
    """Every row matching `where`, oldest created first."""
    query = (
        select(table).where(*where).order_by(table.c.created, table.c.id_number, table.c.task_id)
    )
    return [_archived(row) for row in await connection.execute(query)]


async def unfinished(connection: AsyncConnection) -> list[Task]:
    """The tasks last seen Pending or Refreshing, oldest first."""
    statuses = [status.value for status in sorted(UNFINISHED)]
    found = await oldest_first(connection, [table.c.status.in_(statuses)])
    return [archived.task for archived in found]


async def prune(connection: AsyncConnection, before: datetime) -> int:
    """Drop tasks created before `before`; how many went."""
    result = await connection.execute(delete(table).where(table.c.created < before))
    return int(result.rowcount)


async def archive_mark(
    connection: AsyncConnection, object_type: ObjectType | str
) -> datetime | None:
    """Where the archiver got to for `object_type`, if it ever did."""
    value = (
        await connection.execute(select(mark.c.value).where(mark.c.name == _mark(object_type)))
    ).scalar_one_or_none()
    return datetime.fromisoformat(value) if value is not None else None


async def set_archive_mark(
    connection: AsyncConnection, object_type: ObjectType | str, moment: datetime
) -> None:
    """Move the archiver's mark for `object_type` to `moment`."""
    wanted = insert(mark, connection.dialect.name).values(
        name=_mark(object_type), value=iso_text(moment)
    )
    await connection.execute(
        wanted.on_conflict_do_update(
            index_elements=[mark.c.name], set_={"value": wanted.excluded.value}
        )
    )


def _mark(object_type: ObjectType | str) -> str:
    return f"{MARK_PREFIX}{object_type}"


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(table.c.created.desc(), table.c.id_number.desc(), table.c.task_id.desc())


def _order(archived: Archived) -> tuple[datetime, int, str]:
    task = archived.task
    return task.created, id_number(task.task_id), task.task_id


def _archived(row: Row[Any]) -> Archived:
    task = Task(
        task_id=row.task_id,
        object_path=row.object_path,
        object_type=row.object_type,
        status=Status(row.status),
        progress=min(100.0, max(0.0, float(row.progress))),
        created=row.created,
        description=row.description,
    )
    return Archived(task, row.first_seen, row.last_seen, row.ended_at)
