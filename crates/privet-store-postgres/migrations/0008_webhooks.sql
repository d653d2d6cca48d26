-- Webhooks: the endpoints operators register, and the outbox of deliveries to them. A
-- delivery is written here before it is sent and claimed by one sender at a time under a
-- lease (chosen with FOR UPDATE SKIP LOCKED), so the instances sharing the database send each
-- once, and a sender that dies is replaced when its lease runs out.

CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    -- JSON arrays: event names, and {product, recipient} objects (Art. 19 mapping).
    events        TEXT NOT NULL,
    recipients    TEXT NOT NULL,
    -- Sealed by the server's secret box; the key itself is never stored.
    secret        BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint         TEXT NOT NULL REFERENCES webhooks(id),
    event            TEXT NOT NULL,
    -- The JSON body as sent: ids and pseudonyms only.
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    leased_until     BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);
