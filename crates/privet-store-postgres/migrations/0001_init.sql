-- Privet data store, PostgreSQL. Append-only: later changes go in new numbered files, named as
-- the SQLite backend's are. Every statement runs with the data schema as the search path.
-- Personal values never appear in clear here: profiles and records are sealed with the
-- subject's key (held in the keyring schema), and records refer to subjects by pseudonym.
-- Times are microseconds since the Unix epoch (BIGINT), as in the SQLite backend.
-- No foreign keys, as in the SQLite backend: erasure removes rows in the order it chooses.

CREATE TABLE subjects (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('household', 'member')),
    household   text,
    pseudonym   bytea NOT NULL UNIQUE,
    child       boolean NOT NULL DEFAULT false,
    restricted  boolean NOT NULL DEFAULT false,
    profile     bytea NOT NULL,
    created_at  bigint NOT NULL
);
CREATE INDEX subjects_household ON subjects (household);

CREATE TABLE devices (
    id          text PRIMARY KEY,
    product     text NOT NULL,
    household   text,
    member      text,
    token_hash  bytea UNIQUE,
    claim_hash  bytea UNIQUE,
    firmware    text,
    last_seen   bigint,
    created_at  bigint NOT NULL,
    revoked_at  bigint
);
CREATE INDEX devices_household ON devices (household);
CREATE INDEX devices_member ON devices (member);

CREATE TABLE api_keys (
    id          text PRIMARY KEY,
    role        text NOT NULL,
    purposes    text[] NOT NULL,
    key_hash    bytea NOT NULL UNIQUE,
    label       text NOT NULL DEFAULT '',
    created_at  bigint NOT NULL,
    revoked_at  bigint
);

CREATE TABLE consents (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject          text NOT NULL,
    product          text,
    purpose          text NOT NULL,
    granted          boolean NOT NULL,
    manifest_version text NOT NULL,
    at               bigint NOT NULL,
    actor            text NOT NULL,
    channel          text NOT NULL
);
CREATE INDEX consents_subject ON consents (subject, seq);

-- One row per retention chunk. Its records live in the partition blocks_<id> of `blocks`,
-- created when the first block for the chunk arrives, so an expired chunk is dropped whole.
-- Identity ids are never reused: a dropped chunk's id names nothing again.
CREATE TABLE chunks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class         text NOT NULL,
    window_start  bigint NOT NULL,
    window_end    bigint NOT NULL,
    UNIQUE (class, window_start)
);
CREATE INDEX chunks_window ON chunks (window_start, id);

-- Record blocks, partitioned by chunk. The indexes are declared once here and every partition
-- gets its own copy when it is attached. A record id is unique in its chunk, as in SQLite.
CREATE TABLE blocks (
    chunk        bigint NOT NULL,
    id           bytea NOT NULL,
    subject      bytea NOT NULL,
    stream       text NOT NULL,
    product      text NOT NULL,
    device       text NOT NULL,
    class        text NOT NULL,
    t_min        bigint NOT NULL,
    t_max        bigint NOT NULL,
    expires_max  bigint NOT NULL,
    n            bigint NOT NULL,
    payload      bytea NOT NULL
) PARTITION BY LIST (chunk);
CREATE INDEX blocks_subject ON blocks (subject, t_min);
CREATE UNIQUE INDEX blocks_id ON blocks (id, chunk);

-- The audit chain. `body` is the exact hashed text; `actor` and `subjects` repeat what it
-- says in indexed columns, so an account's or a subject's entries are found without
-- searching text.
CREATE TABLE audit (
    seq       bigint PRIMARY KEY,
    at        bigint NOT NULL,
    body      text NOT NULL,
    prev      bytea NOT NULL,
    hash      bytea NOT NULL,
    actor     text NOT NULL,
    subjects  bytea[] NOT NULL
);
CREATE INDEX audit_at ON audit (at, seq);
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_subjects ON audit USING gin (subjects);
