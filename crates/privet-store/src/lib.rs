//! Privet's storage: the [`Store`] trait for everything but keys, the [`Keyring`] trait for
//! wrapped subject keys, and the embedded SQLite backend ([`sqlite::SqliteStore`],
//! [`sqlite::SqliteKeyring`]).
//!
//! Records are stored as sealed blocks (one subject, one stream, one retention class, one
//! ingest batch) in per-chunk tables, so retention drops whole chunks. The audit log is a
//! hash chain whose head is anchored in the keyring. Every backend must pass [`suite::run`].
//!
//! ```no_run
//! # async fn demo() -> privet_store::Result<()> {
//! use privet_store::{Store, sqlite::SqliteStore};
//! let store = SqliteStore::open(std::path::Path::new("privet-data/privet.db"))?;
//! let (blocks, events) = store.record_counts().await?;
//! println!("{blocks} blocks holding {events} events");
//! # Ok(()) }
//! ```

pub mod error;
pub mod ids;
pub mod model;
pub mod sqlite;
pub mod store;
#[cfg(any(test, feature = "suite"))]
pub mod suite;

pub use error::{Error, Result};
pub use ids::{ApiKeyId, DeviceId, SubjectId};
pub use model::*;
pub use store::{BlockStream, Keyring, Store};
