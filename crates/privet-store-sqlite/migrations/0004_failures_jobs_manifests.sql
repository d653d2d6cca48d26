-- Shared state that several instances of one deployment coordinate through (SQLite serves one
-- process, but both backends keep the same tables): sign-in throttling, durable background
-- jobs, and the manifests every instance serves.

-- Failed attempts per throttle key (a keyed hash, never an address or e-mail).
CREATE TABLE failures (
    key    BLOB PRIMARY KEY,
    count  INTEGER NOT NULL,
    last   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX failures_last ON failures(last);

-- AUTOINCREMENT: an id is never reused after its job is pruned, so finishing a pruned job
-- can never finish a newer one.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    arg           TEXT NOT NULL,
    due           INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    leased_until  INTEGER,
    done_at       INTEGER,
    UNIQUE (kind, arg)
) STRICT;
CREATE INDEX jobs_pending ON jobs(id) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs(done_at) WHERE done_at IS NOT NULL;

-- Every published manifest text; a product's newest is its highest seq.
CREATE TABLE manifests (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    product       TEXT NOT NULL,
    source        TEXT NOT NULL,
    digest        TEXT NOT NULL,
    published_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX manifests_product ON manifests(product, seq);
