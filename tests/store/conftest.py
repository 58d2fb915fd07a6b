"""Every store test runs on both engines: a SQLite file of its own and an empty PostgreSQL
database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.database import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'state' / 'bot.db'}"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    yield opened
    await opened.close()
