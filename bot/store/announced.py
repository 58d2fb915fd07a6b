"""Queries on what the watcher has said: the tasks each channel heard of, and the high-water
mark the watcher got to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.columns import iso_text
from bot.store.engine import insert
from bot.store.schema import announced as table
from bot.store.schema import mark

HIGH_WATER = "high_water"
# Channels per SELECT: well under either engine's limit on bound parameters.
CHUNK = 500


async def announced(connection: AsyncConnection, channel_ids: Sequence[str]) -> dict[str, set[str]]:
    """The task IDs each of `channel_ids` has been told about (or muted)."""
    found: dict[str, set[str]] = {channel: set() for channel in channel_ids}
    for start in range(0, len(channel_ids), CHUNK):
        chunk = channel_ids[start : start + CHUNK]
        query = select(table.c.channel_id, table.c.task_id).where(table.c.channel_id.in_(chunk))
        for channel, task_id in await connection.execute(query):
            found[channel].add(task_id)
    return found


async def record(
    connection: AsyncConnection, channel_id: str, task_ids: Sequence[str], now: datetime
) -> None:
    """Remember that `channel_id` heard of `task_ids`; a task it knew keeps its first moment."""
    if not task_ids:
        return
    rows = [{"channel_id": channel_id, "task_id": key, "announced_at": now} for key in task_ids]
    await connection.execute(insert(table, connection.dialect.name).on_conflict_do_nothing(), rows)


async def forget_before(connection: AsyncConnection, moment: datetime) -> None:
    """Drop what was announced before `moment`."""
    await connection.execute(delete(table).where(table.c.announced_at < moment))


async def high_water(connection: AsyncConnection) -> datetime | None:
    """Where the watcher got to, if it ever ran."""
    value = (
        await connection.execute(select(mark.c.value).where(mark.c.name == HIGH_WATER))
    ).scalar_one_or_none()
    return datetime.fromisoformat(value) if value is not None else None


async def set_high_water(connection: AsyncConnection, moment: datetime) -> None:
    """Move the watcher's mark to `moment`."""
    wanted = insert(mark, connection.dialect.name).values(name=HIGH_WATER, value=iso_text(moment))
    await connection.execute(
        wanted.on_conflict_do_update(
            index_elements=[mark.c.name], set_={"value": wanted.excluded.value}
        )
    )
