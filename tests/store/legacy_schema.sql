-- The schema as the store made it before Alembic: PRAGMA user_version 1 to 6, one migration
-- per section. tests/store/test_migrations.py builds old files from it.

-- user_version 1
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

-- user_version 2
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

-- user_version 3
CREATE INDEX audit_by_time ON audit (at);

-- user_version 4
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

-- user_version 5
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

-- user_version 6
ALTER TABLE mute ADD COLUMN muted_by TEXT NOT NULL DEFAULT '';
