//! The SQLite keyring (`keyring.db`): wrapped subject keys, the audit anchor, and instance
//! secrets (the receipt signing key). A master-key rotation re-wraps keys and secrets only by
//! compare-and-set, so an erasure or another rotation meanwhile wins.

use crate::codec::{self, audit_hash, conflict_or, not_found_or, pseudonym, ts};
use crate::{conn, rows};
use async_trait::async_trait;
use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym};
use privet_store::{Context, Error, Keyring, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Wrapped keys in their own database file, never part of data backups.
#[derive(Clone)]
pub struct SqliteKeyring {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteKeyring {
    /// Opens or creates the keyring at `path` (mode 0600).
    pub fn open(path: &Path) -> Result<Self> {
        conn::create_private(path)?;
        let mut c = conn::open(path, false)?;
        conn::migrate(&mut c, conn::KEYRING_MIGRATIONS)?;
        conn::settle_wal(&c)?;
        Ok(SqliteKeyring {
            conn: Arc::new(Mutex::new(c)),
        })
    }

    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().map_err(|_| Error::Closed)?;
            f(&mut c)
        })
        .await
        .map_err(|_| Error::Closed)?
    }
}

#[async_trait]
impl Keyring for SqliteKeyring {
    async fn put(&self, subject: &Pseudonym, wrapped: Vec<u8>, at: Timestamp) -> Result<()> {
        let p = subject.as_bytes().to_vec();
        self.with(move |c| {
            c.execute(
                "INSERT INTO keys (pseudonym, wrapped, created_at) VALUES (?1, ?2, ?3)",
                params![p, wrapped, ts(at)],
            )
            .map_err(|e| conflict_or(e, "key", "(pseudonym)", "store key"))?;
            Ok(())
        })
        .await
    }

    async fn get(&self, subject: &Pseudonym) -> Result<Vec<u8>> {
        let p = subject.as_bytes().to_vec();
        self.with(move |c| {
            c.query_row("SELECT wrapped FROM keys WHERE pseudonym = ?1", [p], |r| {
                r.get(0)
            })
            .map_err(|e| not_found_or(e, "key", "(pseudonym)", "read key"))
        })
        .await
    }

    async fn destroy(&self, subject: &Pseudonym) -> Result<bool> {
        let p = subject.as_bytes().to_vec();
        self.with(move |c| {
            let n = c
                .execute("DELETE FROM keys WHERE pseudonym = ?1", [p])
                .op("destroy key")?;
            // secure_delete zeroed the page in the database; the WAL still holds the old page
            // until a checkpoint copies it back and truncates the log to nothing. Only another
            // process reading the keyring can hold that off (this connection is the only one
            // here), and then only for the busy timeout.
            let busy: i64 = c
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .op("checkpoint keyring")?;
            if busy != 0 {
                // The key is out of the table but a copy may sit in the WAL: say so, rather
                // than let an erasure report a key destroyed that is still on disk. Destroying
                // again (the erasure retried) truncates again.
                return Err(privet_store::Error::backend(
                    "truncate the keyring's WAL",
                    "another process held it off past the busy timeout",
                ));
            }
            Ok(n > 0)
        })
        .await
    }

    async fn has_keys(&self, subjects: &[Pseudonym]) -> Result<Vec<bool>> {
        let ps: Vec<Vec<u8>> = subjects.iter().map(|p| p.as_bytes().to_vec()).collect();
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM keys WHERE pseudonym = ?1)")
                .op("check keys")?;
            ps.iter()
                .map(|p| {
                    stmt.query_row([p], |r| r.get::<_, bool>(0))
                        .op("check keys")
                })
                .collect()
        })
        .await
    }

    async fn set_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                 WHERE excluded.seq > audit_anchor.seq",
                params![seq, hash.as_bytes().as_slice()],
            )
            .op("set audit anchor")?;
            Ok(())
        })
        .await
    }

    async fn reset_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                params![seq, hash.as_bytes().as_slice()],
            )
            .op("reset audit anchor")?;
            Ok(())
        })
        .await
    }

    async fn audit_anchor(&self) -> Result<Option<(i64, AuditHash)>> {
        self.with(|c| {
            let row: Option<(i64, Vec<u8>)> = c
                .query_row("SELECT seq, hash FROM audit_anchor WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .op("read audit anchor")?;
            row.map(|(s, h)| Ok((s, audit_hash(&h)?))).transpose()
        })
        .await
    }

    async fn wrapped_keys(
        &self,
        after: Option<Pseudonym>,
        limit: usize,
    ) -> Result<Vec<(Pseudonym, Vec<u8>)>> {
        // Pseudonyms compare as bytes (SQLite's BLOB order is memcmp), as `Pseudonym`'s `Ord`
        // does; the empty blob sorts before every pseudonym, so it stands for "from the start".
        let after = after.map(|p| p.as_bytes().to_vec()).unwrap_or_default();
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT pseudonym, wrapped FROM keys WHERE pseudonym > ?1 ORDER BY pseudonym LIMIT ?2",
                )
                .op("list wrapped keys")?;
            rows::decode_all(
                &mut stmt,
                params![after, codec::limit(limit)],
                "list wrapped keys",
                |(p, wrapped): (Vec<u8>, Vec<u8>)| Ok((pseudonym(&p)?, wrapped)),
            )
        })
        .await
    }

    async fn rewrap(&self, subject: &Pseudonym, old: &[u8], new: Vec<u8>) -> Result<bool> {
        let (p, old) = (subject.as_bytes().to_vec(), old.to_vec());
        // Compare-and-set: a key destroyed meanwhile stays destroyed (no row to update), and a
        // key another rotation re-wrapped first is not overwritten with a stale wrapping.
        self.with(move |c| {
            c.execute(
                "UPDATE keys SET wrapped = ?3 WHERE pseudonym = ?1 AND wrapped = ?2",
                params![p, old, new],
            )
            .map(|n| n > 0)
            .op("re-wrap key")
        })
        .await
    }

    async fn secret(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let name = name.to_owned();
        self.with(move |c| {
            c.query_row("SELECT sealed FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .op("read secret")
        })
        .await
    }

    async fn put_secret(&self, name: &str, sealed: Vec<u8>) -> Result<Vec<u8>> {
        let name = name.to_owned();
        self.with(move |c| {
            // Immediate: another process opening this keyring (a command run beside the
            // server) cannot slip its own secret between the insert and the read.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .op("store secret")?;
            tx.execute(
                "INSERT INTO secrets (name, sealed) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, sealed],
            )
            .op("store secret")?;
            let stored: Vec<u8> = tx
                .query_row("SELECT sealed FROM secrets WHERE name = ?1", [&name], |r| {
                    r.get(0)
                })
                .op("store secret")?;
            tx.commit().op("store secret")?;
            Ok(stored)
        })
        .await
    }

    async fn rewrap_secret(&self, name: &str, old: &[u8], new: Vec<u8>) -> Result<bool> {
        let (name, old) = (name.to_owned(), old.to_vec());
        self.with(move |c| {
            c.execute(
                "UPDATE secrets SET sealed = ?3 WHERE name = ?1 AND sealed = ?2",
                params![name, old, new],
            )
            .map(|n| n > 0)
            .op("re-wrap secret")
        })
        .await
    }
}
