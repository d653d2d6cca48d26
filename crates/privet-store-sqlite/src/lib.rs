//! Privet's embedded storage backend: the [`privet_store::Store`] and
//! [`privet_store::Keyring`] traits on SQLite, and the data directory that holds them.
//!
//! - [`SqliteStore`] is the data store (`privet.db`): one writer thread that groups concurrent
//!   writes into one durable commit (a savepoint per write, so one failing write is undone
//!   alone), a pool of read connections, and a thread that checkpoints the WAL so commits
//!   never wait for it. Records live in one table per retention chunk, so expired data is
//!   dropped a table at a time.
//! - [`SqliteKeyring`] holds the wrapped subject keys (`keyring.db`), apart from the data
//!   store so data backups never hold keys.
//! - [`SqliteDir`] opens both from a data directory; [`SqliteDir::lock`] takes the lock a
//!   serving process holds, and [`DirLock::install_backup`] puts a backup of the store in
//!   place under it.
//!
//! Every file is readable by its owner only; commits fsync (`synchronous = FULL`); deleted
//! content is zeroed (`secure_delete`), and an erasure or a device reset truncates the WAL
//! before it returns, so what they deleted is in no file of the directory.
//!
//! ```no_run
//! use privet_store::Store;
//! use privet_store_sqlite::SqliteDir;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::path::Path::new("./privet-data");
//! let _lock = SqliteDir::lock(dir)?; // one serving process per directory
//! let SqliteDir { store, keyring, .. } = SqliteDir::open(dir)?;
//! let (blocks, events) = store.record_counts().await?;
//! println!("{blocks} blocks holding {events} events");
//! # drop(keyring);
//! # Ok(()) }
//! ```

mod accounts;
mod api_keys;
mod audit;
mod blocks;
mod checkpoint;
mod chunks;
mod codec;
mod conn;
mod consents;
mod data_dir;
mod devices;
mod failures;
pub mod installation;
mod invitations;
mod jobs;
mod keyring;
mod manifests;
mod pool;
mod releases;
mod requests;
mod rows;
mod sessions;
mod store;
mod store_impl;
mod subjects;
mod two_step;
mod webhooks;
mod writer;

pub use data_dir::{
    DirLock, IN_USE_FILE, InstalledBackup, KEYRING_FILE, LOCK_FILE, STORE_FILE, SqliteDir,
    SqliteDirError, is_data_store_backup,
};
pub use keyring::SqliteKeyring;
pub use store::SqliteStore;
