-- Rights requests, complete: a clock stopped while waiting for identity or a clarification,
-- requests recorded from self-service, and requests about a visitor located by device and
-- time range. Complaints need no column: `kind` is free text checked by the code.

ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'self_service'));
ALTER TABLE requests ADD COLUMN paused_reason TEXT
    CHECK (paused_reason IN ('identity', 'clarification'));
ALTER TABLE requests ADD COLUMN paused_since INTEGER;
ALTER TABLE requests ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0 CHECK (paused_days >= 0);
ALTER TABLE requests ADD COLUMN visitor_device TEXT;
ALTER TABLE requests ADD COLUMN visitor_from INTEGER;
ALTER TABLE requests ADD COLUMN visitor_until INTEGER;
