"""SQLite storage: subscriptions, what each channel was told, mutes, the watcher's mark,
the audit trail, confirmations of writes and the submissions whose progress is followed.

One connection in WAL mode, used from worker threads one call at a time, so any number of tasks
of one process can share it. The schema is versioned (PRAGMA user_version) and migrated on open.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.core.audit import AuditEntry
from bot.core.progress import Tracked
from bot.core.submission import Action, Claim, Confirmation, Kind, Submission
from bot.core.tasks import ObjectType
from bot.core.watch import Subscription
from bot.errors import ConfigurationError

T = TypeVar("T")


@dataclass(frozen=True)
class ActiveMute:
    """A domain silenced in a channel: by whom and until when."""

    domain: str
    muted_by: str
    until: datetime


MIGRATIONS = [
    """
    CREATE TABLE subscription (
        channel_id  TEXT NOT NULL,
        domain      TEXT NOT NULL DEFAULT '',   -- '' means every domain
        object_type TEXT NOT NULL DEFAULT '',   -- '' means every type
        added_by    TEXT NOT NULL,
        added_at    TEXT NOT NULL,
        unreachable TEXT,
        PRIMARY KEY (channel_id, domain, object_type)
    );
    CREATE TABLE announced (
        channel_id   TEXT NOT NULL,
        task_id      TEXT NOT NULL,
        announced_at TEXT NOT NULL,
        PRIMARY KEY (channel_id, task_id)
    ) WITHOUT ROWID;
    CREATE INDEX announced_by_time ON announced (announced_at);
    CREATE TABLE mute (
        channel_id TEXT NOT NULL,
        domain     TEXT NOT NULL,
        until      TEXT NOT NULL,
        PRIMARY KEY (channel_id, domain)
    );
    CREATE TABLE mark (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE audit (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        channel_id  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        detail      TEXT NOT NULL,
        query       TEXT NOT NULL,
        results     INTEGER,
        request_ids TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        latency_ms  REAL NOT NULL
    );
    """,
    # The trail is kept by age: pruning asks for the oldest rows on every write.
    """
    CREATE INDEX audit_by_time ON audit (at);
    """,
    # A write waits here for its one click; `used_*` says who spent it.
    """
    CREATE TABLE confirmation (
        id          TEXT PRIMARY KEY,
        user_id     TEXT NOT NULL,
        channel_id  TEXT NOT NULL,
        action      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        force       INTEGER NOT NULL,
        area        TEXT,
        paths       TEXT NOT NULL,          -- one per line
        created_at  TEXT NOT NULL,
        used_by     TEXT,
        used_at     TEXT
    );
    CREATE INDEX confirmation_by_time ON confirmation (created_at);
    """,
    # A submission whose progress message is kept up to date; a restart picks it up again.
    """
    CREATE TABLE tracked (
        id            TEXT PRIMARY KEY,
        user_id       TEXT NOT NULL,
        channel_id    TEXT NOT NULL,
        action        TEXT NOT NULL,
        kind          TEXT NOT NULL,
        force         INTEGER NOT NULL,
        area          TEXT,
        paths         TEXT NOT NULL,          -- the paths that went in, one per line
        task_ids      TEXT NOT NULL,          -- comma-separated
        refused       INTEGER NOT NULL,
        started_at    TEXT NOT NULL,
        cap_at        TEXT NOT NULL,
        message_ts    TEXT,                   -- NULL: progress goes through response_url
        response_url  TEXT,
        response_uses INTEGER NOT NULL,
        shown         TEXT NOT NULL,
        updated_at    TEXT,
        finished_at   TEXT
    );
    CREATE INDEX tracked_unfinished ON tracked (finished_at);
    """,
    # Who muted a domain, so the channel can see it ('' for mutes made before this column).
    """
    ALTER TABLE mute ADD COLUMN muted_by TEXT NOT NULL DEFAULT '';
    """,
]


def sqlite_path(database_url: str) -> str:
    """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite:///:memory:` → a path."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        raise ConfigurationError(
            "DATABASE_URL", "must be a SQLite URL like sqlite:///cdn-task-bot.db"
        )
    return database_url[len(prefix) :] or ":memory:"


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Store:
    """The bot's durable state; every method is a coroutine that runs its SQL off the loop."""

    def __init__(self, database_url: str) -> None:
        path = sqlite_path(database_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._connection.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL cannot corrupt; a power cut may forget the last commits, which at
        # worst repeats a notification, never drops one.
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        version = self._connection.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._connection:
                self._connection.executescript(
                    f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;"
                )

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return int(self._connection.execute("PRAGMA user_version").fetchone()[0])

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._connection)

        return await asyncio.to_thread(locked)

    async def _execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; the changed row count. No cursor leaves the lock: a cursor
        finalised on another thread while the connection is in use corrupts the call."""

        def work(db: sqlite3.Connection) -> int:
            cursor = db.execute(sql, params)
            try:
                return cursor.rowcount
            finally:
                cursor.close()

        return await self._run(work)

    def close(self) -> None:
        """Close the connection, after any statement under way (closing under one crashes)."""
        with self._lock:
            self._connection.close()

    # -- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, subscription: Subscription) -> bool:
        """Store a subscription; False when the channel had it already (it is reachable again)."""

        def work(db: sqlite3.Connection) -> bool:
            key = _key(subscription.channel_id, subscription.domain, subscription.object_type)
            existing = db.execute(
                "SELECT 1 FROM subscription WHERE channel_id=? AND domain=? AND object_type=?", key
            ).fetchone()
            if existing:
                db.execute(
                    "UPDATE subscription SET unreachable=NULL "
                    "WHERE channel_id=? AND domain=? AND object_type=?",
                    key,
                )
                return False
            db.execute(
                "INSERT INTO subscription VALUES (?, ?, ?, ?, ?, NULL)",
                (*key, subscription.added_by, _text(subscription.added_at)),
            )
            return True

        return await self._run(work)

    async def unsubscribe(
        self,
        channel_id: str,
        domain: str | None,
        object_type: ObjectType | None,
        *,
        everything: bool,
    ) -> int:
        """Remove the channel's matching subscription (or all of them); how many went."""

        def work(db: sqlite3.Connection) -> int:
            if everything:
                cursor = db.execute("DELETE FROM subscription WHERE channel_id=?", (channel_id,))
            else:
                cursor = db.execute(
                    "DELETE FROM subscription WHERE channel_id=? AND domain=? AND object_type=?",
                    _key(channel_id, domain, object_type),
                )
            return cursor.rowcount

        return await self._run(work)

    async def subscriptions(self, channel_id: str) -> list[Subscription]:
        """One channel's subscriptions, oldest first. A blank channel is a caller's bug and
        raises: it never reads as "every channel" (that is `all_subscriptions`)."""
        if not channel_id.strip():
            raise ValueError("subscriptions of a blank channel; all_subscriptions() is every one")
        return await self._select_subscriptions(" WHERE channel_id=?", (channel_id,))

    async def all_subscriptions(self) -> list[Subscription]:
        """Every channel's subscriptions, oldest first: for the watcher, never for a reply."""
        return await self._select_subscriptions("", ())

    async def _select_subscriptions(
        self, where: str, params: tuple[str, ...]
    ) -> list[Subscription]:
        def work(db: sqlite3.Connection) -> list[Subscription]:
            rows = db.execute(f"SELECT * FROM subscription{where} ORDER BY added_at", params)
            return [
                Subscription(
                    channel_id=row[0],
                    domain=row[1] or None,
                    object_type=ObjectType(row[2]) if row[2] else None,
                    added_by=row[3],
                    added_at=_moment(row[4]),
                    unreachable=row[5],
                )
                for row in rows
            ]

        return await self._run(work)

    async def mark_unreachable(self, channel_id: str, reason: str) -> None:
        """Stop posting to a channel Slack refuses; shown in /cdn subscriptions."""
        await self._execute(
            "UPDATE subscription SET unreachable=? WHERE channel_id=?", (reason, channel_id)
        )

    # -- what was said ----------------------------------------------------------------------

    async def announced(self, channel_ids: Iterable[str]) -> dict[str, set[str]]:
        """The task IDs each channel has been told about (or muted)."""
        wanted = list(channel_ids)

        def work(db: sqlite3.Connection) -> dict[str, set[str]]:
            found: dict[str, set[str]] = {channel: set() for channel in wanted}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for channel, task_id in db.execute(
                    f"SELECT channel_id, task_id FROM announced WHERE channel_id IN ({marks})",
                    chunk,
                ):
                    found[channel].add(task_id)
            return found

        return await self._run(work)

    async def record_announced(
        self, channel_id: str, task_ids: Iterable[str], now: datetime
    ) -> None:
        """Remember that `channel_id` has heard of these tasks (after Slack accepted the post)."""
        stamp = _text(now)
        rows = [(channel_id, task_id, stamp) for task_id in task_ids]

        def work(db: sqlite3.Connection) -> None:
            with db:  # one transaction, not one per row
                db.execute("BEGIN")
                db.executemany("INSERT OR IGNORE INTO announced VALUES (?, ?, ?)", rows).close()

        await self._run(work)

    async def forget_announced_before(self, moment: datetime) -> None:
        """Drop records no window can reach again (older than the API's history)."""
        await self._execute("DELETE FROM announced WHERE announced_at < ?", (_text(moment),))

    # -- mutes ------------------------------------------------------------------------------

    async def mute(self, channel_id: str, domain: str, until: datetime, *, by: str = "") -> None:
        """Silence a domain in a channel until `until`; `by` is who asked."""
        await self._execute(
            "INSERT OR REPLACE INTO mute (channel_id, domain, until, muted_by) VALUES (?, ?, ?, ?)",
            (channel_id, domain, _text(until), by),
        )

    async def unmute(self, channel_id: str, domain: str | None) -> list[str]:
        """Lift the channel's mute of `domain` (None: every mute); the domains it lifted."""
        if not channel_id.strip():
            raise ValueError("unmute in a blank channel")

        def work(db: sqlite3.Connection) -> list[str]:
            with db:
                db.execute("BEGIN")
                where, params = "channel_id=?", [channel_id]
                if domain is not None:
                    where, params = "channel_id=? AND domain=?", [channel_id, domain]
                found = [
                    str(row[0])
                    for row in db.execute(f"SELECT domain FROM mute WHERE {where}", params)
                ]
                db.execute(f"DELETE FROM mute WHERE {where}", params).close()
                return sorted(found)

        return await self._run(work)

    async def mutes(self, channel_id: str, now: datetime) -> list[ActiveMute]:
        """One channel's mutes still in force at `now`, the soonest to end first."""
        if not channel_id.strip():
            raise ValueError("mutes of a blank channel")

        def work(db: sqlite3.Connection) -> list[ActiveMute]:
            rows = db.execute(
                "SELECT domain, muted_by, until FROM mute WHERE channel_id=? AND until > ? "
                "ORDER BY until, domain",
                (channel_id, _text(now)),
            ).fetchall()
            return [ActiveMute(str(d), str(by), _moment(str(u))) for d, by, u in rows]

        return await self._run(work)

    async def muted(self, now: datetime) -> dict[str, set[str]]:
        """Each channel's domains muted at `now`."""

        def work(db: sqlite3.Connection) -> dict[str, set[str]]:
            db.execute("DELETE FROM mute WHERE until <= ?", (_text(now),))
            found: dict[str, set[str]] = {}
            for channel, domain in db.execute("SELECT channel_id, domain FROM mute"):
                found.setdefault(channel, set()).add(domain)
            return found

        return await self._run(work)

    # -- the audit trail --------------------------------------------------------------------

    async def record_audit(self, entry: AuditEntry, *, forget_before: datetime) -> None:
        """Append an entry and drop those older than `forget_before`. By age, not by count:
        no number of cheap commands can push an earlier action out of the trail."""
        row = (
            _text(entry.at), entry.user, entry.channel, entry.kind, entry.detail, entry.query,
            entry.results, ",".join(entry.request_ids), entry.outcome, entry.latency_ms,
        )  # fmt: skip

        def work(db: sqlite3.Connection) -> None:
            with db:
                db.execute("BEGIN")
                cursor = db.execute(
                    "INSERT INTO audit (at, user_id, channel_id, kind, detail, query, results, "
                    "request_ids, outcome, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                cursor.close()
                db.execute("DELETE FROM audit WHERE at < ?", (_text(forget_before),)).close()

        await self._run(work)

    async def recent_audit(self, limit: int) -> list[AuditEntry]:
        """The newest entries, newest first."""

        def work(db: sqlite3.Connection) -> list[AuditEntry]:
            rows = db.execute(
                "SELECT at, user_id, channel_id, kind, detail, query, results, request_ids, "
                "outcome, latency_ms FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [_audit_entry(row) for row in rows]

        return await self._run(work)

    # -- confirmations of writes ------------------------------------------------------------

    async def save_confirmation(self, confirmation: Confirmation) -> None:
        """Keep a confirmation until it is clicked (or forgotten)."""
        wanted = confirmation.submission
        await self._execute(
            "INSERT INTO confirmation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                confirmation.id, confirmation.user, confirmation.channel, wanted.action.value,
                wanted.kind.value, int(wanted.force), wanted.area, "\n".join(wanted.paths),
                _text(confirmation.created_at),
            ),
        )  # fmt: skip

    async def claim_confirmation(self, confirmation_id: str, *, user: str, at: datetime) -> Claim:
        """Spend a confirmation for `user`: granted to exactly one claim, however many clicks
        arrive at once, in this process or another on the same database."""

        def work(db: sqlite3.Connection) -> Claim:
            with db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT id, user_id, channel_id, action, kind, force, area, paths, "
                    "created_at, used_by, used_at FROM confirmation WHERE id=?",
                    (confirmation_id,),
                ).fetchone()
                if row is None:
                    return Claim(None, granted=False)
                confirmation = _confirmation(row)
                if row[9] is not None:
                    return Claim(confirmation, False, str(row[9]), _moment(str(row[10])))
                db.execute(
                    "UPDATE confirmation SET used_by=?, used_at=? WHERE id=?",
                    (user, _text(at), confirmation_id),
                ).close()
                return Claim(confirmation, granted=True, used_by=user, used_at=at)

        return await self._run(work)

    async def release_confirmation(self, confirmation_id: str, *, user: str) -> None:
        """Make a confirmation `user` spent clickable again: nothing was submitted with it."""
        await self._execute(
            "UPDATE confirmation SET used_by=NULL, used_at=NULL WHERE id=? AND used_by=?",
            (confirmation_id, user),
        )

    async def forget_confirmations_before(self, moment: datetime) -> None:
        """Drop confirmations made before `moment` (long past clicking)."""
        await self._execute("DELETE FROM confirmation WHERE created_at < ?", (_text(moment),))

    # -- submissions being followed ---------------------------------------------------------

    async def save_tracked(self, tracked: Tracked) -> None:
        """Keep (or overwrite) a followed submission and what its message shows."""
        wanted = tracked.submission
        await self._execute(
            "INSERT OR REPLACE INTO tracked VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tracked.id, tracked.user, tracked.channel, wanted.action.value,
                wanted.kind.value, int(wanted.force), wanted.area, "\n".join(wanted.paths),
                ",".join(tracked.task_ids), tracked.refused, _text(tracked.started_at),
                _text(tracked.cap_at), tracked.message_ts, tracked.response_url,
                tracked.response_uses, tracked.shown, _optional_text(tracked.updated_at),
                _optional_text(tracked.finished_at),
            ),
        )  # fmt: skip

    async def tracked(self, tracked_id: str) -> Tracked | None:
        """One followed submission, finished or not."""
        found = await self._select_tracked("WHERE id=?", (tracked_id,))
        return found[0] if found else None

    async def unfinished_tracked(self) -> list[Tracked]:
        """The submissions still being followed, oldest first (to resume after a restart)."""
        return await self._select_tracked("WHERE finished_at IS NULL ORDER BY started_at", ())

    async def _select_tracked(self, where: str, params: tuple[str, ...]) -> list[Tracked]:
        def work(db: sqlite3.Connection) -> list[Tracked]:
            return [_tracked(row) for row in db.execute(f"SELECT * FROM tracked {where}", params)]

        return await self._run(work)

    async def forget_tracked_before(self, moment: datetime) -> None:
        """Drop submissions started before `moment` (their tasks are gone upstream)."""
        await self._execute("DELETE FROM tracked WHERE started_at < ?", (_text(moment),))

    # -- the watcher's mark -----------------------------------------------------------------

    async def high_water(self) -> datetime | None:
        """Where the watcher got to, if it ever ran."""

        def work(db: sqlite3.Connection) -> datetime | None:
            row = db.execute("SELECT value FROM mark WHERE name='high_water'").fetchone()
            return _moment(row[0]) if row else None

        return await self._run(work)

    async def set_high_water(self, moment: datetime) -> None:
        """Move the watcher's mark."""
        await self._execute(
            "INSERT OR REPLACE INTO mark VALUES ('high_water', ?)", (_text(moment),)
        )


def _key(
    channel_id: str, domain: str | None, object_type: ObjectType | None
) -> tuple[str, str, str]:
    return channel_id, domain or "", object_type.value if object_type else ""


def _confirmation(row: tuple[object, ...]) -> Confirmation:
    key, user, channel, action, kind, force, area, paths, created_at = row[:9]
    submission = Submission(
        Action(str(action)),
        Kind(str(kind)),
        tuple(str(paths).split("\n")),
        force=bool(force),
        area=str(area) if area is not None else None,
    )
    return Confirmation(str(key), submission, str(user), str(channel), _moment(str(created_at)))


def _optional_text(moment: datetime | None) -> str | None:
    return _text(moment) if moment is not None else None


def _tracked(row: tuple[object, ...]) -> Tracked:
    key, user, channel, action, kind, force, area, paths, task_ids, refused = row[:10]
    started, cap, ts, url, uses, shown, updated, finished = row[10:]
    submission = Submission(
        Action(str(action)),
        Kind(str(kind)),
        tuple(filter(None, str(paths).split("\n"))),
        force=bool(force),
        area=str(area) if area is not None else None,
    )
    return Tracked(
        id=str(key),
        user=str(user),
        channel=str(channel),
        submission=submission,
        task_ids=tuple(filter(None, str(task_ids).split(","))),
        refused=int(str(refused)),
        started_at=_moment(str(started)),
        cap_at=_moment(str(cap)),
        message_ts=str(ts) if ts is not None else None,
        response_url=str(url) if url is not None else None,
        response_uses=int(str(uses)),
        shown=str(shown),
        updated_at=_moment(str(updated)) if updated is not None else None,
        finished_at=_moment(str(finished)) if finished is not None else None,
    )


def _audit_entry(row: tuple[object, ...]) -> AuditEntry:
    at, user, channel, kind, detail, query, results, request_ids, outcome, latency = row
    return AuditEntry(
        at=_moment(str(at)),
        user=str(user),
        channel=str(channel),
        kind=str(kind),
        detail=str(detail),
        query=str(query),
        results=int(str(results)) if results is not None else None,
        request_ids=tuple(filter(None, str(request_ids).split(","))),
        outcome=str(outcome),
        latency_ms=float(str(latency)),
    )
