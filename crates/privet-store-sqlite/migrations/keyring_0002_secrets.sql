-- Instance secrets (the receipt signing key), sealed under a master-key epoch. In the keyring,
-- not privet.db, for the reason keys are: data backups never hold them.

CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    sealed  BLOB NOT NULL
) STRICT, WITHOUT ROWID;
