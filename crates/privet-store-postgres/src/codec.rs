//! Conversions between stored columns and model types, and the mapping of PostgreSQL errors to
//! the store's matchable errors.
//!
//! PostgreSQL puts row values in its error details ("Key (email_lookup)=(…) already exists",
//! "Failing row contains (…)"), so a database error never reaches the store's error as it is:
//! [`PgFailure`] keeps its SQLSTATE code and its message, which name constraints and columns
//! but hold no values.

use privet_store::{Context, Error, Result};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::FromSql;

pub(crate) use privet_store::columns::{
    audit_hash, count, from_opt_ts, from_ts, int, limit, pseudonym, record_id, token, token_hash,
    ts,
};

/// A stored `bigint` the model holds as `u32` (event counts, attempts).
pub(crate) fn u32_of(v: i64, what: &'static str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::Corrupt { what })
}

/// Column `idx` of a row, read as `T`.
pub(crate) fn col<'a, T: FromSql<'a>>(row: &'a Row, idx: usize, op: &'static str) -> Result<T> {
    row.try_get(idx).pg(op)
}

/// A PostgreSQL failure as the store reports it: the SQLSTATE code and the server's message
/// (which names tables, columns and constraints, never row values), or the client's own
/// description of a connection failure.
#[derive(Debug)]
pub(crate) struct PgFailure {
    code: Option<String>,
    message: String,
}

impl std::fmt::Display for PgFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} (SQLSTATE {code})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PgFailure {}

impl PgFailure {
    /// What is safe to report of `e`: for a database error its code and message without
    /// DETAIL or HINT; otherwise the client's description and the I/O cause, if any.
    pub(crate) fn of(e: &tokio_postgres::Error) -> PgFailure {
        if let Some(db) = e.as_db_error() {
            return PgFailure {
                code: Some(db.code().code().to_owned()),
                message: db.message().to_owned(),
            };
        }
        let io = std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| format!(": {io}"))
            .unwrap_or_default();
        PgFailure {
            code: None,
            message: format!("{e}{io}"),
        }
    }

    /// A failure described by this crate.
    pub(crate) fn msg(message: impl Into<String>) -> PgFailure {
        PgFailure {
            code: None,
            message: message.into(),
        }
    }
}

/// Maps PostgreSQL results to the store's errors.
pub(crate) trait Pg<T> {
    /// A backend error doing `op`, with only what [`PgFailure`] keeps.
    fn pg(self, op: &'static str) -> Result<T>;
    /// `Conflict` for `entity` `id` on a unique violation, else as [`Pg::pg`].
    fn or_conflict(self, entity: &'static str, id: &str, op: &'static str) -> Result<T>;
}

impl<T> Pg<T> for std::result::Result<T, tokio_postgres::Error> {
    fn pg(self, op: &'static str) -> Result<T> {
        self.map_err(|e| PgFailure::of(&e)).op(op)
    }

    fn or_conflict(self, entity: &'static str, id: &str, op: &'static str) -> Result<T> {
        self.map_err(|e| {
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                Error::conflict(entity, id)
            } else {
                Error::backend(op, PgFailure::of(&e))
            }
        })
    }
}

impl<T> Pg<T> for std::result::Result<T, deadpool_postgres::PoolError> {
    fn pg(self, op: &'static str) -> Result<T> {
        self.map_err(|e| pool_error(e, op))
    }

    fn or_conflict(self, _entity: &'static str, _id: &str, op: &'static str) -> Result<T> {
        self.pg(op)
    }
}

/// A failure to get a pooled connection.
fn pool_error(e: deadpool_postgres::PoolError, op: &'static str) -> Error {
    use deadpool_postgres::{PoolError, TimeoutType};
    match e {
        PoolError::Backend(e) => Error::backend(op, PgFailure::of(&e)),
        PoolError::Closed => Error::Closed,
        PoolError::Timeout(TimeoutType::Wait) => Error::backend(
            op,
            PgFailure::msg("no pooled database connection became free in time"),
        ),
        PoolError::Timeout(_) => Error::backend(
            op,
            PgFailure::msg("the database did not answer a new connection in time"),
        ),
        other => Error::backend(op, PgFailure::msg(other.to_string())),
    }
}
