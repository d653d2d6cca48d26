//! Privet's deployment storage backend: the [`privet_store::Store`] and
//! [`privet_store::Keyring`] traits on PostgreSQL, for several `privet serve` instances sharing
//! one database.
//!
//! - [`open`] connects with [`PgOptions`], creates the data schema (`privet`) and the keyring
//!   schema (`privet_keyring`) if missing and applies their migrations under an advisory lock,
//!   so instances starting together migrate once; a schema migrated by a newer binary is
//!   refused ([`PgError::SchemaTooNew`]).
//! - [`PgStore`] is the data store. Record blocks live in `blocks`, partitioned by chunk (a
//!   partition per retention class and window, created on demand), so expired data is dropped
//!   a partition at a time. Concurrent `append_blocks` calls are grouped into one transaction
//!   written with binary `COPY`; scans stream from one REPEATABLE READ snapshot. Appends to
//!   the audit chain are serialised by the database, so all instances extend one chain; every
//!   compare-and-set (two-step codes, invitations, claims, jobs) is one conditional statement.
//!   `announce` is a `NOTIFY` every instance's [`privet_store::Store::changes`] stream hears.
//! - [`PgKeyring`] holds the wrapped subject keys and instance secrets in the keyring schema,
//!   or another database (`keyring_url`) — never the data schema, so data backups never hold
//!   keys.
//!
//! # What erasure removes, and what PostgreSQL keeps
//!
//! Destroying a key, erasing a subject and resetting a device delete the rows and then
//! `VACUUM` the tables that held them (best effort), so no live row holds what was removed,
//! and — unless a transaction still open in that database could see it — no dead row version
//! either. The shared suite's crypto-shredding checks hold this backend to "no live row".
//! PostgreSQL keeps older copies where this crate cannot reach: dead row versions an open
//! snapshot still needs (a long scan postpones their removal to a later vacuum), the free
//! space of a page until it is reused, WAL segments until they are recycled, base backups and
//! WAL archives, and replicas. Those copies of keys and secrets stay readable only with the
//! master-key epoch that wrapped them, and retiring that epoch (master-key rotation, done by
//! the server, not here) is what makes them useless; the records they would open are sealed
//! with keys that are gone. A keyring in its own database (`keyring_url`) also keeps the data
//! store's long scans from holding back the vacuum of destroyed keys.
//!
//! # Locks worth knowing
//!
//! A scan holds a pooled connection and a snapshot until it ends; while it runs, a dropped
//! chunk's partition cannot be dropped (its blocks are already gone for every reader, and the
//! partition goes at the next retention sweep). Dropping a partition waits at most a quarter
//! of a second for its lock, so neither ingest nor scans stall behind it for longer.
//!
//! Times are stored as BIGINT microseconds since the Unix epoch, as the SQLite backend stores
//! them (the client's jiff support is for another jiff generation than this workspace's).
//! Connections are unencrypted (`NoTls`): run the database on a private network or a local
//! socket.
//!
//! ```no_run
//! use privet_store::Store;
//! use privet_store_postgres::{PgOptions, open};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let (store, keyring) = open(&PgOptions::new("postgres://privet@127.0.0.1/privet")).await?;
//! let (blocks, events) = store.record_counts().await?;
//! println!("{blocks} blocks holding {events} events in schema {}", store.schema());
//! # drop(keyring);
//! # Ok(()) }
//! ```

mod accounts;
mod api_keys;
mod audit;
mod blocks;
mod changes;
mod chunks;
mod codec;
mod consents;
mod devices;
mod error;
mod failures;
mod invitations;
mod jobs;
mod keyring;
mod locks;
mod manifests;
mod migrate;
mod options;
mod pool;
mod releases;
mod requests;
mod sessions;
mod store;
mod store_impl;
mod subjects;
mod two_step;
mod writer;

pub use error::PgError;
pub use keyring::PgKeyring;
pub use options::PgOptions;
pub use store::{PgStore, drop_schemas, open};
