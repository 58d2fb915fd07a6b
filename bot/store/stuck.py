"""Queries on stuck notices: which channel was told which task is stuck, under which message,
and whether its end has been told in that message's thread."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.stuck import StuckNotice
from bot.store.engine import insert
from bot.store.schema import stuck_notice as table

# Task IDs per IN (…): well under either engine's limit on bound parameters.
CHUNK = 500


async def notices(connection: AsyncConnection, task_ids: Iterable[str]) -> list[StuckNotice]:
    """Every open notice (its end not told yet), and every notice of `task_ids`."""
    found = {
        (row.channel_id, row.task_id): _notice(row)
        for row in await connection.execute(select(table).where(table.c.ended.is_(False)))
    }
    wanted = sorted(set(task_ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(table).where(table.c.ended.is_(True), table.c.task_id.in_(chunk))
        for row in await connection.execute(query):
            found[row.channel_id, row.task_id] = _notice(row)
    return sorted(found.values(), key=lambda n: (n.noticed_at, n.channel_id, n.task_id))


async def record(
    connection: AsyncConnection,
    channel_id: str,
    task_ids: Sequence[str],
    message_ts: str | None,
    now: datetime,
) -> None:
    """Remember that `channel_id` was told these tasks are stuck (in `message_ts`; None: muted
    there); a task it was told of before keeps its first notice."""
    if not task_ids:
        return
    rows = [
        {"channel_id": channel_id, "task_id": task_id, "message_ts": message_ts, "noticed_at": now}
        for task_id in dict.fromkeys(task_ids)
    ]
    await connection.execute(insert(table, connection.dialect.name).on_conflict_do_nothing(), rows)


async def close(connection: AsyncConnection, channel_id: str, task_ids: Sequence[str]) -> None:
    """Mark the end of these tasks as told in `channel_id`."""
    wanted = sorted(set(task_ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        where = and_(table.c.channel_id == channel_id, table.c.task_id.in_(chunk))
        await connection.execute(update(table).where(where).values(ended=True))


async def forget_before(connection: AsyncConnection, moment: datetime) -> None:
    """Drop notices given before `moment`."""
    await connection.execute(delete(table).where(table.c.noticed_at < moment))


def _notice(row: Row[Any]) -> StuckNotice:
    return StuckNotice(
        channel_id=row.channel_id,
        task_id=row.task_id,
        message_ts=row.message_ts,
        noticed_at=row.noticed_at,
        ended=bool(row.ended),
    )
