"""Queries on the audit trail: who did what, kept by age."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.audit import AuditEntry
from bot.store.schema import audit as table


async def record(connection: AsyncConnection, entry: AuditEntry, forget_before: datetime) -> None:
    """Append `entry` and drop the entries older than `forget_before`."""
    await connection.execute(
        insert(table).values(
            at=entry.at,
            user_id=entry.user,
            channel_id=entry.channel,
            kind=entry.kind,
            detail=entry.detail,
            query=entry.query,
            results=entry.results,
            request_ids=",".join(entry.request_ids),
            outcome=entry.outcome,
            latency_ms=entry.latency_ms,
        )
    )
    await connection.execute(delete(table).where(table.c.at < forget_before))


async def recent(connection: AsyncConnection, limit: int) -> list[AuditEntry]:
    """The newest `limit` entries, newest first."""
    query = select(table).order_by(table.c.id.desc()).limit(limit)
    return [_entry(row) for row in await connection.execute(query)]


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        user=row.user_id,
        channel=row.channel_id,
        kind=row.kind,
        detail=row.detail,
        query=row.query,
        results=row.results,
        request_ids=tuple(filter(None, row.request_ids.split(","))),
        outcome=row.outcome,
        latency_ms=float(row.latency_ms),
    )
