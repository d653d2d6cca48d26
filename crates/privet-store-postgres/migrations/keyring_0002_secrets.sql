-- Instance secrets (the receipt signing key), sealed under a master-key epoch. In the keyring,
-- not the data schema, for the reason keys are: data backups never hold them.

CREATE TABLE secrets (
    name    text PRIMARY KEY,
    sealed  bytea NOT NULL
);
