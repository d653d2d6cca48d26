//! The store's error type: matchable `NotFound` and `Conflict`, and backend failures.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such entity.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of entity, e.g. `subject`.
        entity: &'static str,
        /// Its id (an opaque id, never a personal value).
        id: String,
    },
    /// The entity already exists, or the change conflicts with its state.
    #[error("{entity} {id} conflicts with existing data")]
    Conflict {
        /// The kind of entity.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// The database failed.
    #[error("database error during {op}")]
    Backend {
        /// What the store was doing.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: BackendError,
    },
    /// Stored data could not be decoded (corruption or tampering).
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What was being decoded.
        what: &'static str,
    },
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

/// A backend's own error.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// File system.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A failure shared by every write of a group commit (the message of the SQLite error).
    #[error("{0}")]
    Group(String),
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a backend error with what the store was doing.
    pub fn backend(op: &'static str, source: impl Into<BackendError>) -> Self {
        Error::Backend {
            op,
            source: source.into(),
        }
    }

    /// Whether this is `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

/// Adds the operation name to backend results.
pub(crate) trait Context<T> {
    fn op(self, op: &'static str) -> Result<T>;
}

impl<T, E: Into<BackendError>> Context<T> for std::result::Result<T, E> {
    fn op(self, op: &'static str) -> Result<T> {
        self.map_err(|e| Error::backend(op, e))
    }
}
