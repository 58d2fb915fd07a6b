"""Alembic's environment: migrates the connection bot.store.migrate hands over, inside that
connection's transaction. From the alembic command line (a developer's `alembic revision
--autogenerate`), it opens DATABASE_URL itself."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.engine import Connector
from bot.store.schema import metadata


def migrate(connection: Connection) -> None:
    """Run the migrations Alembic was asked for on `connection`."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters most things by copying the table: autogenerate writes batch operations.
        render_as_batch=True,
        # Both engines roll DDL back (Alembic assumes SQLite cannot): a failed migration
        # leaves the schema as it was.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def migrate_environment() -> None:
    """Run them on DATABASE_URL, for the alembic command line."""
    connector = Connector(os.environ.get("DATABASE_URL", "sqlite:///cdn-task-bot.db"))
    try:
        async with connector.writing() as connection:
            await connection.run_sync(migrate)
    finally:
        await connector.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    migrate(given)
else:
    asyncio.run(migrate_environment())
