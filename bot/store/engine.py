"""DATABASE_URL → an async SQLAlchemy engine (aiosqlite or asyncpg), and the connections the
store's queries run on. SQLite gets WAL and a busy timeout on every connection, and its writes
start with BEGIN IMMEDIATE, one at a time in this process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.errors import ConfigurationError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

EXPECTED = (
    "expected sqlite:///file.db, sqlite:////absolute/path.db, sqlite:///:memory: "
    "or postgresql://user:password@host:5432/name"
)
_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
# A connection's execution option: its transactions write, so on SQLite they begin IMMEDIATE.
_WRITES = "bot_writes"


def database_url(text: str) -> URL:
    """The async driver's URL for a DATABASE_URL; any other scheme is a ConfigurationError
    whose message never repeats the URL (it may hold a password)."""
    scheme, separator, _ = text.strip().partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in _SCHEMES:
        shown = f"{scheme}:// is not supported" if separator else "is not a URL"
        raise ConfigurationError("DATABASE_URL", f"{shown}; {EXPECTED}")
    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):
        # Not chained: the parser's message quotes the whole URL, password and all.
        raise ConfigurationError("DATABASE_URL", f"cannot be read; {EXPECTED}") from None
    url = url.set(drivername=_SCHEMES[scheme])
    if url.get_backend_name() == SQLITE and not url.database:
        url = url.set(database=":memory:")
    if "sslmode" in url.query:
        # libpq's spelling, as hosted databases hand it out; asyncpg takes the same modes as `ssl`.
        url = url.difference_update_query(["sslmode"]).update_query_dict(
            {"ssl": url.query["sslmode"]}
        )
    return url


def in_memory(url: URL) -> bool:
    """Whether a SQLite URL names a database that lives in this process only."""
    return url.database == ":memory:"


def insert(table: Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the dialect's ON CONFLICT clauses (SQLAlchemy has no generic upsert)."""
    return postgresql.insert(table) if dialect == POSTGRESQL else sqlite.insert(table)


class Connector:
    """The engine, and connections for reading or for one write transaction."""

    def __init__(self, database_url_text: str) -> None:
        url = database_url(database_url_text)
        self.dialect = url.get_backend_name()
        # One process's SQLite writers queue here rather than in SQLite's busy handler, which
        # sleeps in steps; other processes still wait in the handler (busy_timeout).
        self._turns = asyncio.Lock()
        # A memory database is one connection (StaticPool): every use takes turns.
        self._shared = self.dialect == SQLITE and in_memory(url)
        self.engine = _sqlite_engine(url) if self.dialect == SQLITE else _engine(url)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only (on SQLite each statement sees the latest commit)."""
        async with self._turn(self._shared), self.engine.connect() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed at the end unless it raises; on SQLite it holds the write
        lock from its first statement, so what it reads stays true until it commits."""
        async with self._turn(self.dialect == SQLITE), self.engine.connect() as connection:
            await connection.execution_options(**{_WRITES: True})
            async with connection.begin():
                yield connection

    @contextlib.asynccontextmanager
    async def _turn(self, needed: bool) -> AsyncIterator[None]:
        if not needed:
            yield
            return
        async with self._turns:
            yield

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _engine(url: URL) -> AsyncEngine:
    return create_async_engine(url)


def _sqlite_engine(url: URL) -> AsyncEngine:
    if in_memory(url):
        engine = create_async_engine(url, poolclass=StaticPool)
    else:
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_connected)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, _record: object) -> None:
    # The driver's own transaction handling skips BEGIN before reads and DDL; _sqlite_begin
    # says BEGIN itself instead (SQLAlchemy's documented recipe for sqlite3 and aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL cannot corrupt; a power cut may forget the last commits, which at
        # worst repeats a notification, never drops one.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once if another connection
    # wrote in between; an immediate one takes the write lock up front (or waits for it).
    # Reads say no BEGIN: each statement is a transaction of its own, one trip to the driver's
    # thread fewer.
    if connection.get_execution_options().get(_WRITES, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
