-- Ordering across writers that the database, not a process, must hold.
--
-- A household's version: bumped in the same transaction as every write that changes what the
-- household allows (consent, objection, restriction, new member, device claimed or reset,
-- erasure step). An ingest batch carries the version its permissions were read at and commits
-- only if it is unchanged. Members' rows carry the column too; only households' are used.
ALTER TABLE subjects ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- Who is completing a rights request, until when: the request's action runs only for the
-- holder of the claim (a claimant that died is replaced once its claim runs out).
ALTER TABLE requests ADD COLUMN claimed_until bigint;
