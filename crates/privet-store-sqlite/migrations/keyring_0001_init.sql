-- Privet keyring, SQLite (keyring.db): subject data keys wrapped by the master key.
-- Kept apart from privet.db so data backups never hold keys: an erased subject's records
-- in an old backup stay unreadable.

CREATE TABLE keys (
    pseudonym   BLOB PRIMARY KEY,
    wrapped     BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The newest audit entry, kept outside privet.db so truncating the audit log is detectable.
CREATE TABLE audit_anchor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  BLOB NOT NULL
) STRICT;
