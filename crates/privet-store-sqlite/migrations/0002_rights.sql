-- Rights requests received by e-mail or phone, and objections to legitimate-interests purposes.

CREATE TABLE requests (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    subject           TEXT NOT NULL,
    received_at       INTEGER NOT NULL,
    due               TEXT NOT NULL,
    extended_due      TEXT,
    extension_reason  TEXT,
    status            TEXT NOT NULL CHECK (status IN ('open', 'done')),
    completed_at      INTEGER,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX requests_status ON requests(status, due);

CREATE TABLE objections (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    subject   TEXT NOT NULL,
    product   TEXT,
    purpose   TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL
) STRICT;
CREATE INDEX objections_subject ON objections(subject);
