"""Queries on followed submissions: what each progress message shows, until it is finished."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.progress import Tracked
from bot.core.submission import Action, Kind, Submission
from bot.store.engine import insert
from bot.store.schema import tracked as table


async def save(connection: AsyncConnection, tracked: Tracked) -> None:
    """Keep (or overwrite) `tracked` and what its message shows."""
    wanted = tracked.submission
    values = {
        "id": tracked.id,
        "user_id": tracked.user,
        "channel_id": tracked.channel,
        "action": wanted.action.value,
        "kind": wanted.kind.value,
        "force": wanted.force,
        "area": wanted.area,
        "paths": "\n".join(wanted.paths),
        "task_ids": ",".join(tracked.task_ids),
        "refused": tracked.refused,
        "started_at": tracked.started_at,
        "cap_at": tracked.cap_at,
        "message_ts": tracked.message_ts,
        "response_url": tracked.response_url,
        "response_uses": tracked.response_uses,
        "shown": tracked.shown,
        "updated_at": tracked.updated_at,
        "finished_at": tracked.finished_at,
    }
    saved = insert(table, connection.dialect.name).values(values)
    await connection.execute(
        saved.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={name: saved.excluded[name] for name in values if name != "id"},
        )
    )


async def one(connection: AsyncConnection, tracked_id: str) -> Tracked | None:
    """One followed submission, finished or not."""
    found = await _select(connection, table.c.id == tracked_id)
    return found[0] if found else None


async def unfinished(connection: AsyncConnection) -> list[Tracked]:
    """The submissions still being followed, oldest first."""
    return await _select(connection, table.c.finished_at.is_(None))


async def _select(connection: AsyncConnection, where: ColumnElement[bool]) -> list[Tracked]:
    query = select(table).where(where).order_by(table.c.started_at, table.c.id)
    return [_tracked(row) for row in await connection.execute(query)]


async def forget_before(connection: AsyncConnection, moment: datetime) -> None:
    """Drop submissions started before `moment`."""
    await connection.execute(delete(table).where(table.c.started_at < moment))


def _tracked(row: Row[Any]) -> Tracked:
    submission = Submission(
        Action(row.action),
        Kind(row.kind),
        tuple(filter(None, row.paths.split("\n"))),
        force=bool(row.force),
        area=row.area,
    )
    return Tracked(
        id=row.id,
        user=row.user_id,
        channel=row.channel_id,
        submission=submission,
        task_ids=tuple(filter(None, row.task_ids.split(","))),
        refused=row.refused,
        started_at=row.started_at,
        cap_at=row.cap_at,
        message_ts=row.message_ts,
        response_url=row.response_url,
        response_uses=row.response_uses,
        shown=row.shown,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )
