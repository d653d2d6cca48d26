-- Rights requests, complete: a clock stopped while waiting for identity or a clarification,
-- requests recorded from self-service, and requests about a visitor located by device and
-- time range. Complaints need no column: `kind` is free text checked by the code.

ALTER TABLE requests ADD COLUMN source text NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'self_service'));
ALTER TABLE requests ADD COLUMN paused_reason text
    CHECK (paused_reason IN ('identity', 'clarification'));
ALTER TABLE requests ADD COLUMN paused_since bigint;
ALTER TABLE requests ADD COLUMN paused_days integer NOT NULL DEFAULT 0 CHECK (paused_days >= 0);
ALTER TABLE requests ADD COLUMN visitor_device text;
ALTER TABLE requests ADD COLUMN visitor_from bigint;
ALTER TABLE requests ADD COLUMN visitor_until bigint;
