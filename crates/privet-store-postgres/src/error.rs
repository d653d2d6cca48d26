//! Why [`crate::open`] failed, in one line an operator can act on. No message holds a password:
//! targets, users and databases come from the parsed configuration (`crate::describe`), never
//! from the URL's text.

use crate::codec::PgFailure;
use crate::describe::target;
use std::time::Duration;
use tokio_postgres::error::SqlState;

/// What went wrong opening the PostgreSQL store.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The database URL does not parse.
    #[error(
        "invalid database URL: {reason} (expected postgres://user[:password]@host[:port]/database)"
    )]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// A schema name is not a plain identifier.
    #[error(
        "invalid schema name {name:?}: use up to 48 lowercase letters, digits and underscores, not starting with a digit or pg_, neither information_schema nor an SQL reserved word"
    )]
    InvalidSchema {
        /// The name given.
        name: String,
    },
    /// The keyring was asked to live in the data schema.
    #[error(
        "the keyring schema must differ from the data schema {schema}, so data backups never hold keys"
    )]
    KeyringInDataSchema {
        /// The schema named for both.
        schema: String,
    },
    /// No server answered at the address.
    #[error("cannot reach the PostgreSQL server at {target}: {reason}")]
    Unreachable {
        /// `host:port`.
        target: String,
        /// Refused, timed out after the connect timeout, …
        reason: String,
    },
    /// The server refused the user's credentials.
    #[error("PostgreSQL at {target} refused the credentials of user {user}")]
    AuthFailed {
        /// `host:port`.
        target: String,
        /// The user name.
        user: String,
    },
    /// The database named in the URL does not exist.
    #[error("database {database} does not exist on the PostgreSQL server at {target}")]
    DatabaseMissing {
        /// `host:port`.
        target: String,
        /// The database name.
        database: String,
    },
    /// A schema to drop is in use by another process (a second demo, a server on it).
    #[error(
        "schema {schema} is in use by another process (waited {waited:?} for it): stop the other demo or server using it, then try again"
    )]
    SchemaInUse {
        /// The schema.
        schema: String,
        /// How long the drop waited for its locks.
        waited: Duration,
    },
    /// The schema was migrated by a newer Privet.
    #[error(
        "schema {schema} is at migration {found}, newer than this binary knows ({known}): run a newer privet"
    )]
    SchemaTooNew {
        /// The schema.
        schema: String,
        /// The newest migration applied to it.
        found: i32,
        /// The newest migration this binary has.
        known: i32,
    },
    /// A migration failed (and was rolled back).
    #[error("migration {name} of schema {schema} failed: {reason}")]
    Migration {
        /// The schema.
        schema: String,
        /// The migration's file name.
        name: &'static str,
        /// The server's message.
        reason: String,
    },
    /// Anything else.
    #[error("PostgreSQL failed while {doing}: {reason}")]
    Other {
        /// What `open` was doing.
        doing: &'static str,
        /// The server's or the client's message.
        reason: String,
    },
}

/// Classifies a failure to connect, or of a first statement, into the error an operator can
/// act on.
pub(crate) fn classify(
    e: &tokio_postgres::Error,
    config: &tokio_postgres::Config,
    timeout: Duration,
    doing: &'static str,
) -> PgError {
    let target = target(config);
    let user = crate::describe::user(config);
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return PgError::AuthFailed { target, user };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            let database = crate::describe::dbname(config);
            return PgError::DatabaseMissing { target, database };
        }
        return PgError::Other {
            doing,
            reason: PgFailure::of(e).to_string(),
        };
    }
    // The client's own errors have no public kind; the I/O cause and the description tell
    // them apart.
    let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    let text = e.to_string();
    let missing_password =
        std::error::Error::source(e).is_some_and(|s| s.to_string().contains("password missing"));
    if let Some(io) = io {
        let reason = if io.kind() == std::io::ErrorKind::TimedOut {
            format!("no answer within {timeout:?}")
        } else {
            io.to_string()
        };
        PgError::Unreachable { target, reason }
    } else if text.contains("timeout") {
        PgError::Unreachable {
            target,
            reason: format!("no answer within {timeout:?}"),
        }
    } else if text.contains("TLS") {
        PgError::Other {
            doing,
            reason: "TLS was required (sslmode=require or by the server), and this build connects \
                     without TLS"
                .to_owned(),
        }
    } else if text.contains("authentication") || missing_password {
        PgError::AuthFailed { target, user }
    } else if e.is_closed() || text.contains("communicating") {
        PgError::Unreachable {
            target,
            reason: "the server closed the connection".to_owned(),
        }
    } else {
        PgError::Other {
            doing,
            reason: PgFailure::of(e).to_string(),
        }
    }
}

/// A pool failure while opening, classified like a connection failure.
pub(crate) fn classify_pool(
    e: deadpool_postgres::PoolError,
    config: &tokio_postgres::Config,
    timeout: Duration,
    doing: &'static str,
) -> PgError {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Backend(e) => classify(&e, config, timeout, doing),
        PoolError::Timeout(_) => PgError::Unreachable {
            target: target(config),
            reason: format!("no answer within {timeout:?}"),
        },
        other => PgError::Other {
            doing,
            reason: PgFailure::msg(other.to_string()).to_string(),
        },
    }
}

impl PgError {
    /// A failure after the connection was made.
    pub(crate) fn other(doing: &'static str, e: &tokio_postgres::Error) -> PgError {
        PgError::Other {
            doing,
            reason: PgFailure::of(e).to_string(),
        }
    }
}
