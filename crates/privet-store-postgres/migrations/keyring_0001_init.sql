-- Privet keyring, PostgreSQL: subject data keys wrapped by the master key. In its own schema
-- (or its own database), never the data schema, so data backups never hold keys: an erased
-- subject's records in an old backup stay unreadable.

CREATE TABLE keys (
    pseudonym   bytea PRIMARY KEY,
    wrapped     bytea NOT NULL,
    created_at  bigint NOT NULL
);

-- The newest audit entry, kept outside the data schema so truncating the audit log is
-- detectable.
CREATE TABLE audit_anchor (
    id    integer PRIMARY KEY CHECK (id = 1),
    seq   bigint NOT NULL,
    hash  bytea NOT NULL
);
