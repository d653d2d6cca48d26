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
//! - [`describe_url`] names a database in messages and `Debug` output, rebuilt from the parsed
//!   URL (`postgres://user@host:port/dbname`), so never with its password.
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
//! partition goes at the next retention sweep). So scans are bounded: at most half the pool
//! scans at once, leaving connections for what their readers ask the store, and a scan whose
//! reader takes nothing for five minutes is ended with an error (see `scan`). Dropping a
//! partition waits at most a quarter of a second for its lock, so neither ingest nor scans
//! stall behind it for longer.
//!
//! Ingest is ordered against household changes by the household's row: a change bumps its
//! `version` (an `UPDATE`, in the change's transaction), and the block writer reads the
//! versions its calls were admitted under `FOR SHARE` in the group's transaction, so each
//! waits for the other and a batch admitted under a stale version writes nothing. Rows are
//! locked household first, then devices, each set in id order, by the writer and by every
//! change alike, so instances never deadlock on them.
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
mod describe;
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
mod scan;
mod sessions;
mod store;
mod store_impl;
mod subjects;
mod two_step;
mod webhooks;
mod writer;

pub use describe::{UNPARSEABLE, describe_url, parse_url};
pub use error::PgError;
pub use keyring::PgKeyring;
pub use options::PgOptions;
pub use store::{PgStore, drop_schemas, open};
