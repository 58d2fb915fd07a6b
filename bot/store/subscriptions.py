"""Queries on the subscriptions: which channels hear of which failures (and stuck tasks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.store.engine import insert
from bot.store.schema import subscription as table


async def subscribe(connection: AsyncConnection, wanted: Subscription) -> bool:
    """Store `wanted`; False when the channel had it already (it is reachable again, and hears
    of stuck tasks as `wanted` says)."""
    key = _key(wanted.channel_id, wanted.domain, wanted.object_type)
    added = await connection.execute(
        insert(table, connection.dialect.name)
        .values(**key, added_by=wanted.added_by, added_at=wanted.added_at, stuck=wanted.stuck)
        .on_conflict_do_nothing()
    )
    if added.rowcount:
        return True
    await connection.execute(
        update(table).where(*_matching(key)).values(unreachable=None, stuck=wanted.stuck)
    )
    return False


async def unsubscribe(
    connection: AsyncConnection,
    channel_id: str,
    domain: str | None,
    object_type: ObjectType | None,
    *,
    everything: bool,
) -> int:
    """Remove the channel's matching subscription (or all of them); how many went."""
    if everything:
        where = [table.c.channel_id == channel_id]
    else:
        where = _matching(_key(channel_id, domain, object_type))
    return (await connection.execute(delete(table).where(*where))).rowcount


async def subscriptions(connection: AsyncConnection, channel_id: str | None) -> list[Subscription]:
    """One channel's subscriptions (None: every channel's), oldest first."""
    query = select(table).order_by(table.c.added_at)
    if channel_id is not None:
        query = query.where(table.c.channel_id == channel_id)
    return [_subscription(row) for row in await connection.execute(query)]


async def mark_unreachable(connection: AsyncConnection, channel_id: str, reason: str) -> None:
    """Stop posting to a channel Slack refuses."""
    await connection.execute(
        update(table).where(table.c.channel_id == channel_id).values(unreachable=reason)
    )


def _key(channel_id: str, domain: str | None, object_type: ObjectType | None) -> dict[str, str]:
    kind = object_type.value if object_type else ""
    return {"channel_id": channel_id, "domain": domain or "", "object_type": kind}


def _matching(key: dict[str, str]) -> list[ColumnElement[bool]]:
    return [table.c[name] == value for name, value in key.items()]


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        channel_id=row.channel_id,
        domain=row.domain or None,
        object_type=ObjectType(row.object_type) if row.object_type else None,
        added_by=row.added_by,
        added_at=row.added_at,
        unreachable=row.unreachable,
        stuck=bool(row.stuck),
    )
