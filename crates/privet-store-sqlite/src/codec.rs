//! Conversions between stored columns and model types, and the mapping of SQLite errors to
//! the store's matchable errors.

use privet_store::Error;

pub(crate) use privet_store::columns::{
    audit_hash, count, from_opt_ts, from_ts, int, limit, pseudonym, record_id, token, token_hash,
    ts,
};

/// A changed-row count as the model's `u64`.
pub(crate) fn changed(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Maps a constraint violation to `Conflict`, anything else to a backend error.
pub(crate) fn conflict_or(
    e: rusqlite::Error,
    entity: &'static str,
    id: &str,
    op: &'static str,
) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::conflict(entity, id)
        }
        _ => Error::backend(op, e),
    }
}

/// `NotFound` for a missing row, anything else to a backend error.
pub(crate) fn not_found_or(
    e: rusqlite::Error,
    entity: &'static str,
    id: &str,
    op: &'static str,
) -> Error {
    match e {
        rusqlite::Error::QueryReturnedNoRows => Error::not_found(entity, id),
        e => Error::backend(op, e),
    }
}
