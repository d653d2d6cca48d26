-- State several instances of one deployment coordinate through: sign-in throttling, durable
-- background jobs, and the manifests every instance serves.

-- Failed attempts per throttle key (a keyed hash, never an address or e-mail).
CREATE TABLE failures (
    key    bytea PRIMARY KEY,
    count  bigint NOT NULL,
    last   bigint NOT NULL
);
CREATE INDEX failures_last ON failures (last);

-- Identity ids are never reused after their job is pruned, so finishing a pruned job can
-- never finish a newer one.
CREATE TABLE jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    arg           text NOT NULL,
    due           bigint NOT NULL,
    attempts      bigint NOT NULL DEFAULT 0,
    leased_until  bigint,
    done_at       bigint,
    UNIQUE (kind, arg)
);
CREATE INDEX jobs_pending ON jobs (id) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;

-- Every published manifest text; a product's newest is its highest seq.
CREATE TABLE manifests (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product       text NOT NULL,
    source        text NOT NULL,
    digest        text NOT NULL,
    published_at  bigint NOT NULL
);
CREATE INDEX manifests_product ON manifests (product, seq);
