"""Leases on the database's clock, with an epoch as fencing token: whoever holds one does the
background work, and a write made with its `Fence` counts only while that holder still has it.

The epoch grows whenever the holder changes, so a holder paused past its lease cannot write
after another one took over, however late its statement arrives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, and_, case, or_, select, update
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from bot.store.engine import insert
from bot.store.schema import lease

FIRST_EPOCH = 1


@dataclass(frozen=True)
class Fence:
    """The lease `name` as `holder` took it at `epoch`: the token its fenced writes carry."""

    name: str
    holder: str
    epoch: int


class DatabaseNow(FunctionElement[int]):
    """The database server's wall clock in Unix milliseconds, read when the statement runs:
    every replica measures a lease on this one clock, never on its own."""

    type = BigInteger()
    inherit_cache = True


@compiles(DatabaseNow, "postgresql")
def _postgresql_now(_element: DatabaseNow, _compiler: SQLCompiler, **_kw: Any) -> str:
    # clock_timestamp(), not now(): now() stands still for the whole transaction.
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"


@compiles(DatabaseNow, "sqlite")
def _sqlite_now(_element: DatabaseNow, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"


@compiles(DatabaseNow)
def _other_now(_element: DatabaseNow, compiler: SQLCompiler, **_kw: Any) -> str:
    raise CompileError(f"no database clock for {compiler.dialect.name}")


async def acquire(connection: AsyncConnection, name: str, holder: str, ttl: float) -> Fence | None:
    """Take `name` for `ttl` seconds if it is free or expired, or renew it if `holder` has it;
    None while another holder's lease runs. One statement: of any number of callers at once,
    one wins."""
    if ttl <= 0:
        raise ValueError(f"a lease lasts a positive time, not {ttl} s")
    now = DatabaseNow()
    wanted = insert(lease, connection.dialect.name).values(
        name=name, holder=holder, epoch=FIRST_EPOCH, expires_ms=now + round(ttl * 1000)
    )
    same_holder = lease.c.holder == wanted.excluded.holder
    statement = wanted.on_conflict_do_update(
        index_elements=[lease.c.name],
        set_={
            "holder": wanted.excluded.holder,
            "expires_ms": wanted.excluded.expires_ms,
            "epoch": case((same_holder, lease.c.epoch), else_=lease.c.epoch + 1),
        },
        where=or_(same_holder, lease.c.expires_ms <= now),
    ).returning(lease.c.epoch)
    epoch = (await connection.execute(statement)).scalar_one_or_none()
    return Fence(name, holder, int(epoch)) if epoch is not None else None


async def release(connection: AsyncConnection, fence: Fence) -> None:
    """End the lease now if `fence` still names its holder and epoch, so another can take it."""
    # Expired at 0 rather than at the database's now: a clock stepped back cannot revive it.
    await connection.execute(update(lease).where(_held_with(fence)).values(expires_ms=0))


async def holder(connection: AsyncConnection, name: str) -> tuple[str, int, bool] | None:
    """Who has (or last had) `name`: holder, epoch and whether the lease has expired."""
    expired = case((lease.c.expires_ms <= DatabaseNow(), True), else_=False)
    row = (
        await connection.execute(
            select(lease.c.holder, lease.c.epoch, expired).where(lease.c.name == name)
        )
    ).first()
    return (str(row[0]), int(row[1]), bool(row[2])) if row is not None else None


async def holds(connection: AsyncConnection, fence: Fence) -> bool:
    """Whether `fence` is still the running lease, checked in the caller's write transaction.
    On PostgreSQL the row stays locked (FOR SHARE) until that transaction ends, so a takeover
    cannot commit in between; SQLite's write transaction already excludes every other writer."""
    found = await connection.execute(
        select(lease.c.epoch)
        .where(_held_with(fence), lease.c.expires_ms > DatabaseNow())
        .with_for_update(read=True)
    )
    return found.first() is not None


def _held_with(fence: Fence) -> ColumnElement[bool]:
    return and_(
        lease.c.name == fence.name, lease.c.holder == fence.holder, lease.c.epoch == fence.epoch
    )
