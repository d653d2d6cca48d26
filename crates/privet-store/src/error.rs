//! The store's error type: matchable `NotFound` and `Conflict`, and backend failures that
//! carry the backend's own error without the trait naming any database.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such entity.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of entity, e.g. `subject`.
        entity: &'static str,
        /// Its id (an opaque id, never a personal value or a pseudonym).
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
        /// The backend's own error.
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

/// A backend's own error, whatever the backend.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl BackendError {
    /// Wraps a backend's error.
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        BackendError(e.into())
    }
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a backend error with what the store was doing.
    pub fn backend(
        op: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Error::Backend {
            op,
            source: BackendError::new(source),
        }
    }

    /// `NotFound` for `entity` with `id`.
    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            id: id.into(),
        }
    }

    /// `Conflict` for `entity` with `id`.
    pub fn conflict(entity: &'static str, id: impl Into<String>) -> Self {
        Error::Conflict {
            entity,
            id: id.into(),
        }
    }

    /// Whether this is `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether this is `Conflict`.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }
}

/// Adds the operation name to a backend's results.
pub trait Context<T> {
    /// Maps the error to [`Error::Backend`] doing `op`.
    fn op(self, op: &'static str) -> Result<T>;
}

impl<T, E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>> Context<T>
    for std::result::Result<T, E>
{
    fn op(self, op: &'static str) -> Result<T> {
        self.map_err(|e| Error::backend(op, e))
    }
}
