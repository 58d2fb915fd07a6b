"""Alembic migrations: the same history on both engines, what the queries expect, all or
nothing, and SQLite files made before Alembic adopted with everything in them."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from bot.core.audit import AuditEntry
from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.errors import ConfigurationError
from bot.store import migrate
from bot.store.database import ActiveMute, Store
from bot.store.engine import Connector
from bot.store.schema import metadata

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEGACY_SCHEMA = Path(__file__).with_name("legacy_schema.sql")
HEAD = ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head()


def legacy_steps() -> list[str]:
    """The old store's migrations, PRAGMA user_version 1 to 6, from the fixture file."""
    return re.split(r"^-- user_version \d+$", LEGACY_SCHEMA.read_text(), flags=re.M)[1:]


def legacy_file(path: Path, version: int) -> sqlite3.Connection:
    """A SQLite file as the old store left it at `version`, still open to fill."""
    old = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(legacy_steps()[:version], start=1):
        old.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
    return old


async def differences(database_url: str) -> list[object]:
    connector = Connector(database_url)
    try:
        async with connector.reading() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await connector.dispose()


async def test_a_new_database_is_at_head_and_matches_the_schema(store, database_url):
    assert await store.schema_revision() == HEAD
    assert await differences(database_url) == []


async def test_replicas_starting_together_migrate_once(database_url):
    stores = await asyncio.gather(*(Store.open(database_url) for _ in range(3)))
    try:
        assert {await store.schema_revision() for store in stores} == {HEAD}
    finally:
        for store in stores:
            await store.close()


def test_the_fixture_is_the_schema_the_old_store_reached():
    assert len(legacy_steps()) == migrate.LEGACY_VERSION


async def test_a_file_from_before_alembic_keeps_everything(tmp_path):
    path = tmp_path / "bot.db"
    old = legacy_file(path, 6)
    at = NOW.isoformat()
    later = (NOW + timedelta(hours=1)).isoformat()
    old.executescript(f"""
        INSERT INTO subscription VALUES ('C1', 'a.com', 'File', 'U0ANA1234', '{at}', NULL);
        INSERT INTO subscription VALUES ('C2', '', '', 'U0ANA1234', '{at}', 'is_archived');
        INSERT INTO announced VALUES ('C1', '15300000001', '{at}');
        INSERT INTO mute (channel_id, domain, until) VALUES ('C1', 'old.com', '{later}');
        INSERT INTO mute VALUES ('C1', 'b.com', '{later}', 'U0OPS0001');
        INSERT INTO mark VALUES ('high_water', '{at}');
        INSERT INTO audit (at, user_id, channel_id, kind, detail, query, results, request_ids,
                           outcome, latency_ms)
            VALUES ('{at}', 'U1', 'C1', 'command', 'failed', 'q', 3, 'r1,r2', 'ok', 12.5);
        INSERT INTO confirmation VALUES ('c1', 'U1', 'C1', 'refresh', 'File', 1, NULL,
                                         'https://a.com/x', '{at}', 'U2', '{at}');
        INSERT INTO tracked VALUES ('t1', 'U1', 'C1', 'refresh', 'Directory', 0, NULL,
            'https://a.com/d/', '15300000001', 0, '{at}', '{later}', '1700000000.000100',
            NULL, 0, 'shown', NULL, NULL);
    """)
    old.close()
    store = await Store.open(f"sqlite:///{path}")
    try:
        assert await store.schema_revision() == HEAD
        first, second = await store.all_subscriptions()
        assert (first.channel_id, first.domain, first.object_type) == (
            "C1",
            "a.com",
            ObjectType.FILE,
        )
        assert first.added_at == NOW and second.unreachable == "is_archived"
        assert second.domain is None and second.object_type is None
        assert await store.announced(["C1"]) == {"C1": {"15300000001"}}
        assert await store.mutes("C1", NOW) == [
            ActiveMute("b.com", "U0OPS0001", NOW + timedelta(hours=1)),
            ActiveMute("old.com", "", NOW + timedelta(hours=1)),
        ]
        assert await store.high_water() == NOW
        assert await store.recent_audit(5) == [
            AuditEntry(NOW, "U1", "C1", "command", "failed", "q", 3, ("r1", "r2"), "ok", 12.5)
        ]
        claim = await store.claim_confirmation("c1", user="U3", at=NOW)
        assert not claim.granted and (claim.used_by, claim.used_at) == ("U2", NOW)
        assert claim.confirmation is not None and claim.confirmation.submission.force
        (followed,) = await store.unfinished_tracked()
        assert followed.message_ts == "1700000000.000100" and followed.cap_at == NOW + timedelta(
            hours=1
        )
        # ...and it takes new rows the way the old store wrote them.
        await store.subscribe(Subscription("C3", None, None, "U1", NOW))
        await store.record_audit(AuditEntry(NOW, "U9", "C3", "action", "mute"), forget_before=NOW)
        assert [e.user for e in await store.recent_audit(5)] == ["U9", "U1"]
    finally:
        await store.close()
    # Against the schema the queries expect it differs only in names SQLite ignores: the old
    # DDL said REAL and INTEGER for floats and flags, and let a lone TEXT key be NULL.
    changes = {
        (kind, table, column)
        for ((kind, _, table, column, *_),) in await differences(f"sqlite:///{path}")
    }
    assert changes == {
        ("modify_nullable", "audit", "id"),
        ("modify_nullable", "confirmation", "id"),
        ("modify_nullable", "mark", "name"),
        ("modify_nullable", "tracked", "id"),
        ("modify_type", "audit", "latency_ms"),
        ("modify_type", "confirmation", "force"),
        ("modify_type", "tracked", "force"),
    }


async def test_a_file_from_an_older_release_is_refused_untouched(tmp_path):
    path = tmp_path / "bot.db"
    legacy_file(path, 5).close()
    with pytest.raises(ConfigurationError) as failure:
        await Store.open(f"sqlite:///{path}")
    assert failure.value.setting == "DATABASE_URL" and "version 5" in failure.value.problem
    with sqlite3.connect(path) as reading:
        assert reading.execute("PRAGMA user_version").fetchone() == (5,)
        tables = {name for (name,) in reading.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" not in tables


async def test_a_failed_migration_leaves_the_schema_as_it_was(database_url, tmp_path, monkeypatch):
    store = await Store.open(database_url)
    await store.set_high_water(NOW)
    await store.close()
    broken = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, broken)
    (broken / "versions" / "9999_broken.py").write_text(
        f'"""Broken."""\n\nfrom alembic import op\n\nrevision = "9999"\n'
        f'down_revision = "{HEAD}"\n\n\n'
        "def upgrade():\n"
        '    op.execute("CREATE TABLE half_made (x INTEGER)")\n'
        '    op.execute("CREATE TABLE mark (x INTEGER)")\n'
    )
    monkeypatch.setattr(migrate, "MIGRATIONS", broken)
    with pytest.raises(DBAPIError):
        await Store.open(database_url)
    monkeypatch.undo()
    store = await Store.open(database_url)
    try:
        assert await store.schema_revision() == HEAD
        assert await store.high_water() == NOW
        assert await differences(database_url) == []  # no half_made table either
    finally:
        await store.close()
