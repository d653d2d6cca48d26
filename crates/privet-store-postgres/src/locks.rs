//! The advisory locks instances sharing a database take, each a transaction-scoped lock on
//! (purpose, `hashtext` of the schema, or of the schema and a key): released at commit or
//! rollback, so a crashed instance never holds one. Two schemas whose hashes collide only
//! wait for each other a little; they never share data.

/// Applying migrations to a schema.
pub(crate) const MIGRATE: i32 = 0x5056_0001;
/// Creating a chunk's row and partition.
pub(crate) const CHUNK: i32 = 0x5056_0002;
/// Publishing a product's manifest.
pub(crate) const MANIFEST: i32 = 0x5056_0003;

/// The statement taking lock `purpose` on the text `$1` (a schema, or `schema/key`).
pub(crate) const XACT_LOCK: &str = "SELECT pg_advisory_xact_lock($1::int4, hashtext($2))";
