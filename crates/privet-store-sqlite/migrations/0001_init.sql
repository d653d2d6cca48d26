-- Privet data store, SQLite. Append-only: later changes go in new numbered files.
-- Personal values never appear in clear here: profiles and records are sealed with the
-- subject's key (held in keyring.db), and records refer to subjects by pseudonym.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('household', 'member')),
    household   TEXT REFERENCES subjects(id),
    pseudonym   BLOB NOT NULL UNIQUE,
    child       INTEGER NOT NULL DEFAULT 0,
    restricted  INTEGER NOT NULL DEFAULT 0,
    profile     BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX subjects_household ON subjects(household);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    product     TEXT NOT NULL,
    household   TEXT,
    member      TEXT,
    token_hash  BLOB UNIQUE,
    claim_hash  BLOB UNIQUE,
    firmware    TEXT,
    last_seen   INTEGER,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX devices_household ON devices(household);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    purposes    TEXT NOT NULL,
    key_hash    BLOB NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE consents (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    subject          TEXT NOT NULL,
    product          TEXT,
    purpose          TEXT NOT NULL,
    granted          INTEGER NOT NULL,
    manifest_version TEXT NOT NULL,
    at               INTEGER NOT NULL,
    actor            TEXT NOT NULL,
    channel          TEXT NOT NULL
) STRICT;
CREATE INDEX consents_subject ON consents(subject, purpose, seq);

-- One row per retention chunk; each chunk's records live in their own table (rec_<id>)
-- so an expired chunk is dropped whole.
CREATE TABLE chunks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    class         TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    window_end    INTEGER NOT NULL,
    UNIQUE (class, window_start)
) STRICT;

CREATE TABLE audit (
    seq   INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    body  TEXT NOT NULL,
    prev  BLOB NOT NULL,
    hash  BLOB NOT NULL
) STRICT;
