"""Column types the schema and its migrations share: moments as timestamptz on PostgreSQL and
as ISO 8601 UTC text on SQLite, the form files from before Alembic already hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, Text
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine


def iso_text(moment: datetime) -> str:
    """A moment as the text SQLite keeps: UTC, ISO 8601, so text order is time order."""
    return moment.astimezone(UTC).isoformat()


class Moment(TypeDecorator[datetime]):
    """An aware datetime: `timestamptz` on PostgreSQL, ISO 8601 UTC text on SQLite."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return value.astimezone(UTC)
        return iso_text(value)

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:
        del dialect  # the value's own type says which form it came in
        if value is None:
            return None
        if isinstance(value, datetime):
            return value
        return datetime.fromisoformat(str(value))
