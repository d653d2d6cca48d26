//! Conversions between stored columns and model types, and the mapping of SQLite errors to
//! the store's matchable errors.

use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};
use privet_store::{Error, Result};

/// Times are stored as microseconds since the Unix epoch.
pub(crate) fn ts(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// A stored time.
pub(crate) fn from_ts(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|_| Error::Corrupt { what: "timestamp" })
}

/// An optional stored time.
pub(crate) fn from_opt_ts(us: Option<i64>) -> Result<Option<Timestamp>> {
    us.map(from_ts).transpose()
}

/// A stored pseudonym.
pub(crate) fn pseudonym(bytes: &[u8]) -> Result<Pseudonym> {
    Pseudonym::from_slice(bytes).map_err(|_| Error::Corrupt { what: "pseudonym" })
}

/// A stored audit hash.
pub(crate) fn audit_hash(bytes: &[u8]) -> Result<AuditHash> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt { what: "audit hash" })?;
    Ok(AuditHash::from_bytes(arr))
}

/// The bytes of a token hash, for storage.
pub(crate) fn token(hash: &TokenHash) -> &[u8] {
    hash.as_bytes()
}

/// A 16-byte record id.
pub(crate) fn record_id(bytes: &[u8]) -> Result<[u8; 16]> {
    bytes
        .try_into()
        .map_err(|_| Error::Corrupt { what: "record id" })
}

/// A count from SQLite (never negative) as the model's `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A changed-row count as the model's `u64`.
pub(crate) fn changed(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A `u64` the model uses (a TOTP step) as an SQLite integer; the backend cannot store more.
pub(crate) fn int(v: u64, op: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|e| Error::backend(op, e))
}

/// A limit as an SQLite integer (`usize::MAX` means no limit).
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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
