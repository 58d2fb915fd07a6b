"""DATABASE_URL → the async driver's URL; anything else is a configuration error that never
shows the password."""

from __future__ import annotations

import pytest

from bot.errors import ConfigurationError
from bot.store.engine import database_url, in_memory


@pytest.mark.parametrize(
    ("given", "driver", "database"),
    [
        ("sqlite:///cdn-task-bot.db", "sqlite+aiosqlite", "cdn-task-bot.db"),
        ("sqlite:////var/lib/bot/state.db", "sqlite+aiosqlite", "/var/lib/bot/state.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite", ":memory:"),
        ("sqlite://", "sqlite+aiosqlite", ":memory:"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite", "x.db"),
        ("postgresql://bot:secret@db:5432/bot", "postgresql+asyncpg", "bot"),
        ("postgres://bot@db/bot", "postgresql+asyncpg", "bot"),
        ("postgresql+asyncpg://bot@db/bot", "postgresql+asyncpg", "bot"),
        ("PostgreSQL://bot@db/bot", "postgresql+asyncpg", "bot"),
    ],
)
def test_accepted_urls(given, driver, database):
    url = database_url(given)
    assert (url.drivername, url.database) == (driver, database)


def test_the_password_and_host_reach_the_driver():
    url = database_url("postgres://bot:s3cret@db.internal:6543/cdn?ssl=require")
    assert (url.username, url.password, url.host, url.port) == (
        "bot",
        "s3cret",
        "db.internal",
        6543,
    )
    assert url.query == {"ssl": "require"}


def test_libpq_sslmode_becomes_asyncpgs_ssl():
    url = database_url("postgres://bot@db/cdn?sslmode=verify-full")
    assert dict(url.query) == {"ssl": "verify-full"}


def test_only_a_memory_database_is_in_memory():
    assert in_memory(database_url("sqlite:///:memory:"))
    assert not in_memory(database_url("sqlite:///bot.db"))


@pytest.mark.parametrize(
    "given",
    [
        "mysql://bot:hunter2@db/bot",
        "postgresql+psycopg2://bot:hunter2@db/bot",
        "sqlite+pysqlite:///hunter2.db",
        "bot:hunter2@db/bot",
        "",
        "postgresql://bot:hunter2@db:port/bot",
    ],
)
def test_other_urls_are_a_configuration_error_without_the_password(given):
    with pytest.raises(ConfigurationError) as failure:
        database_url(given)
    assert failure.value.setting == "DATABASE_URL"
    assert "hunter2" not in str(failure.value)
    # Nor does a chained exception from the URL parser (its message quotes the URL).
    error = failure.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert "sqlite:///" in failure.value.problem and "postgresql://" in failure.value.problem
