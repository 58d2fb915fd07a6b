"""Queries on confirmations of writes: kept until clicked, spent by exactly one click."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.submission import Action, Claim, Confirmation, Kind, Submission
from bot.store.schema import confirmation as table


async def save(connection: AsyncConnection, confirmation: Confirmation) -> None:
    """Keep `confirmation` until it is clicked (or forgotten)."""
    wanted = confirmation.submission
    await connection.execute(
        insert(table).values(
            id=confirmation.id,
            user_id=confirmation.user,
            channel_id=confirmation.channel,
            action=wanted.action.value,
            kind=wanted.kind.value,
            force=wanted.force,
            area=wanted.area,
            paths="\n".join(wanted.paths),
            created_at=confirmation.created_at,
        )
    )


async def claim(
    connection: AsyncConnection, confirmation_id: str, user: str, at: datetime
) -> Claim:
    """Spend the confirmation for `user`, in the caller's write transaction. The row is read
    locked (FOR UPDATE on PostgreSQL; SQLite's write transaction excludes other writers), so of
    any number of claims at once exactly one finds it unspent."""
    found = await connection.execute(
        select(table).where(table.c.id == confirmation_id).with_for_update()
    )
    row = found.first()
    if row is None:
        return Claim(None, granted=False)
    confirmation = _confirmation(row)
    if row.used_by is not None:
        return Claim(confirmation, granted=False, used_by=row.used_by, used_at=row.used_at)
    await connection.execute(
        update(table).where(table.c.id == confirmation_id).values(used_by=user, used_at=at)
    )
    return Claim(confirmation, granted=True, used_by=user, used_at=at)


async def release(connection: AsyncConnection, confirmation_id: str, user: str) -> None:
    """Make a confirmation `user` spent clickable again."""
    await connection.execute(
        update(table)
        .where(table.c.id == confirmation_id, table.c.used_by == user)
        .values(used_by=None, used_at=None)
    )


async def forget_before(connection: AsyncConnection, moment: datetime) -> None:
    """Drop confirmations made before `moment`."""
    await connection.execute(delete(table).where(table.c.created_at < moment))


def _confirmation(row: Row[Any]) -> Confirmation:
    submission = Submission(
        Action(row.action),
        Kind(row.kind),
        tuple(row.paths.split("\n")),
        force=bool(row.force),
        area=row.area,
    )
    return Confirmation(row.id, submission, row.user_id, row.channel_id, row.created_at)
