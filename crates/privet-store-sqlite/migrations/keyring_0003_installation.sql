-- Which installation this keyring belongs to; privet.db's `meta` row `installation` names the
-- same one, so a backup from another installation is recognised before it is restored (its
-- subjects have no keys here: restoring it would purge them all as "erased since").

CREATE TABLE installation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  TEXT NOT NULL
) STRICT;
