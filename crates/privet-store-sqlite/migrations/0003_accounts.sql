-- Accounts (household members and operator staff), sessions, two-step verification,
-- invitations, and signed firmware releases.

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email_lookup        BLOB NOT NULL UNIQUE,
    email_sealed        BLOB NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('member', 'staff')),
    household           TEXT,
    member              TEXT UNIQUE,
    owner               INTEGER NOT NULL DEFAULT 0,
    role                TEXT,
    password_hash       TEXT NOT NULL,
    totp_sealed         BLOB,
    totp_enabled        INTEGER NOT NULL DEFAULT 0,
    totp_last_step      INTEGER,
    can_sign_in         INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_household ON accounts(household);

CREATE TABLE recovery_codes (
    account    TEXT NOT NULL,
    code_hash  BLOB NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id_hash     BLOB PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    client      TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions(account);

CREATE TABLE invitations (
    code_hash   BLOB PRIMARY KEY,
    household   TEXT NOT NULL,
    member      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_by  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE releases (
    product     TEXT NOT NULL,
    version     TEXT NOT NULL,
    signed      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (product, version)
) STRICT, WITHOUT ROWID;
