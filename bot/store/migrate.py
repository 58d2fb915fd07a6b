"""Brings a database to the newest schema with Alembic, on a connection the store opened (no
alembic.ini): the same migrations on SQLite and PostgreSQL. A SQLite file made before Alembic
(PRAGMA user_version 6, no alembic_version table) is first stamped at the baseline."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.errors import ConfigurationError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Today's schema as the last release before Alembic left it.
BASELINE = "0001"
LEGACY_VERSION = 6
# Replicas starting together migrate one after another (pg_advisory_xact_lock's key).
MIGRATION_LOCK = 0x6364_6E62_6F74  # "cdnbot"


def upgrade(connection: Connection) -> None:
    """Migrate to the newest revision, inside `connection`'s transaction (so all or none)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = _config(connection)
    if _made_before_alembic(connection):
        command.stamp(config, BASELINE)
    before = revision(connection)
    command.upgrade(config, "head")
    after = revision(connection)
    if after != before:
        log.info("database schema migrated from %s to %s", before or "nothing", after)


def revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _made_before_alembic(connection: Connection) -> bool:
    if connection.dialect.name != "sqlite" or inspect(connection).has_table("alembic_version"):
        return False
    version = connection.exec_driver_sql("PRAGMA user_version").scalar()
    if not version:
        return False  # a new file
    if version != LEGACY_VERSION:
        raise ConfigurationError(
            "DATABASE_URL",
            f"holds a SQLite schema at version {version}, which this release cannot upgrade "
            f"(it adopts version {LEGACY_VERSION}): start the last release before the move to "
            "Alembic on it once",
        )
    return True
