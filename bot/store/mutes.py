"""Queries on mutes: domains silenced in a channel, by whom and until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.engine import insert
from bot.store.schema import mute as table


@dataclass(frozen=True)
class ActiveMute:
    """A domain silenced in a channel: by whom and until when."""

    domain: str
    muted_by: str
    until: datetime


async def mute(
    connection: AsyncConnection, channel_id: str, domain: str, until: datetime, by: str
) -> None:
    """Silence `domain` in `channel_id` until `until` (a later mute replaces an earlier one)."""
    wanted = insert(table, connection.dialect.name).values(
        channel_id=channel_id, domain=domain, until=until, muted_by=by
    )
    await connection.execute(
        wanted.on_conflict_do_update(
            index_elements=[table.c.channel_id, table.c.domain],
            set_={"until": wanted.excluded.until, "muted_by": wanted.excluded.muted_by},
        )
    )


async def unmute(connection: AsyncConnection, channel_id: str, domain: str | None) -> list[str]:
    """Lift the channel's mute of `domain` (None: every mute); the domains lifted, sorted."""
    lifted = delete(table).where(table.c.channel_id == channel_id)
    if domain is not None:
        lifted = lifted.where(table.c.domain == domain)
    found = await connection.execute(lifted.returning(table.c.domain))
    return sorted(str(name) for name in found.scalars())


async def mutes(connection: AsyncConnection, channel_id: str, now: datetime) -> list[ActiveMute]:
    """One channel's mutes in force at `now`, the soonest to end first."""
    query = (
        select(table.c.domain, table.c.muted_by, table.c.until)
        .where(table.c.channel_id == channel_id, table.c.until > now)
        .order_by(table.c.until, table.c.domain)
    )
    return [ActiveMute(*row) for row in await connection.execute(query)]


async def muted(connection: AsyncConnection, now: datetime) -> dict[str, set[str]]:
    """Each channel's domains muted at `now`; ended mutes are dropped on the way."""
    await connection.execute(delete(table).where(table.c.until <= now))
    found: dict[str, set[str]] = {}
    for channel, domain in await connection.execute(select(table.c.channel_id, table.c.domain)):
        found.setdefault(channel, set()).add(domain)
    return found
