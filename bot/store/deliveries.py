"""Queries on deliveries from Slack that some replica has handled already."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.engine import insert
from bot.store.schema import delivery as table


async def claim(
    connection: AsyncConnection, key: str, at: datetime, forget_before: datetime
) -> bool:
    """Whether `key` is new (and now taken); deliveries handled before `forget_before` go."""
    await connection.execute(delete(table).where(table.c.handled_at < forget_before))
    taken = await connection.execute(
        insert(table, connection.dialect.name)
        .values(key=key, handled_at=at)
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    return taken.first() is not None
