//! The PostgreSQL keyring: wrapped subject keys, the audit anchor and instance secrets, in
//! their own schema (or their own database), never the data schema, so data backups never
//! hold keys. Every replacement is a compare-and-set, for master-key rotation by any instance.
//!
//! Destroying a key deletes its row and then vacuums the keys table (on a pooled connection,
//! outside any transaction), so the dead row version leaves the table's pages unless an open
//! snapshot in the database still needs it. PostgreSQL may still hold the old bytes elsewhere
//! — in WAL segments not yet recycled, in base backups and WAL archives, on replicas, and in
//! the free space of a page until it is overwritten — until the master-key epoch that wrapped
//! the key is retired; that retirement, not this module, is what makes those copies useless.

use crate::codec::{Pg, audit_hash, col, limit, pseudonym, ts};
use crate::pool::{conn, execute, insert, query, query_opt};
use async_trait::async_trait;
use deadpool_postgres::Pool;
use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym};
use privet_store::{Error, Keyring, Result};

/// Wrapped keys in their own schema, through their own pool.
#[derive(Clone)]
pub struct PgKeyring {
    pool: Pool,
    schema: String,
}

impl PgKeyring {
    pub(crate) fn new(pool: Pool, schema: String) -> PgKeyring {
        PgKeyring { pool, schema }
    }

    /// The keyring's connection pool (its connections' `search_path` is the keyring schema).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema holding the keyring.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Vacuums the keys table on a pooled connection, outside any transaction, so a destroyed
    /// key's dead row version leaves the heap now rather than whenever autovacuum comes.
    /// Best effort: a failure is logged, the key is gone from the table either way.
    async fn vacuum_keys(&self) {
        let vacuum = async {
            let c = conn(&self.pool, "vacuum keyring").await?;
            c.batch_execute("VACUUM keys").await.pg("vacuum keyring")
        };
        if let Err(e) = vacuum.await {
            tracing::warn!(error = %e, "could not vacuum the keyring after destroying a key");
        }
    }
}

impl std::fmt::Debug for PgKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgKeyring")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Keyring for PgKeyring {
    async fn put(&self, subject: &Pseudonym, wrapped: Vec<u8>, at: Timestamp) -> Result<()> {
        let c = conn(&self.pool, "store key").await?;
        insert(
            &c,
            "INSERT INTO keys (pseudonym, wrapped, created_at) VALUES ($1, $2, $3)",
            &[&subject.as_bytes().as_slice(), &wrapped, &ts(at)],
            ("key", "(pseudonym)"),
            "store key",
        )
        .await?;
        Ok(())
    }

    async fn get(&self, subject: &Pseudonym) -> Result<Vec<u8>> {
        let c = conn(&self.pool, "read key").await?;
        match query_opt(
            &c,
            "SELECT wrapped FROM keys WHERE pseudonym = $1",
            &[&subject.as_bytes().as_slice()],
            "read key",
        )
        .await?
        {
            Some(r) => col(&r, 0, "read key"),
            None => Err(Error::not_found("key", "(pseudonym)")),
        }
    }

    async fn destroy(&self, subject: &Pseudonym) -> Result<bool> {
        let n = {
            let c = conn(&self.pool, "destroy key").await?;
            execute(
                &c,
                "DELETE FROM keys WHERE pseudonym = $1",
                &[&subject.as_bytes().as_slice()],
                "destroy key",
            )
            .await?
        };
        if n > 0 {
            self.vacuum_keys().await;
        }
        Ok(n > 0)
    }

    async fn has_keys(&self, subjects: &[Pseudonym]) -> Result<Vec<bool>> {
        let op = "check keys";
        let c = conn(&self.pool, op).await?;
        let ps: Vec<&[u8]> = subjects.iter().map(|p| p.as_bytes().as_slice()).collect();
        query(
            &c,
            "SELECT EXISTS (SELECT 1 FROM keys WHERE pseudonym = p.p)
             FROM unnest($1::bytea[]) WITH ORDINALITY AS p(p, i) ORDER BY p.i",
            &[&ps],
            op,
        )
        .await?
        .iter()
        .map(|r| col(r, 0, op))
        .collect()
    }

    async fn set_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()> {
        let c = conn(&self.pool, "set audit anchor").await?;
        execute(
            &c,
            "INSERT INTO audit_anchor AS a (id, seq, hash) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
             WHERE excluded.seq > a.seq",
            &[&seq, &hash.as_bytes().as_slice()],
            "set audit anchor",
        )
        .await?;
        Ok(())
    }

    async fn reset_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()> {
        let c = conn(&self.pool, "reset audit anchor").await?;
        execute(
            &c,
            "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            &[&seq, &hash.as_bytes().as_slice()],
            "reset audit anchor",
        )
        .await?;
        Ok(())
    }

    async fn audit_anchor(&self) -> Result<Option<(i64, AuditHash)>> {
        let op = "read audit anchor";
        let c = conn(&self.pool, op).await?;
        query_opt(
            &c,
            "SELECT seq, hash FROM audit_anchor WHERE id = 1",
            &[],
            op,
        )
        .await?
        .map(|r| Ok((col(&r, 0, op)?, audit_hash(col(&r, 1, op)?)?)))
        .transpose()
    }

    async fn wrapped_keys(
        &self,
        after: Option<Pseudonym>,
        n: usize,
    ) -> Result<Vec<(Pseudonym, Vec<u8>)>> {
        let op = "list wrapped keys";
        let c = conn(&self.pool, op).await?;
        // `bytea` compares as bytes, as `Pseudonym`'s `Ord` does; the empty value sorts before
        // every pseudonym, so it stands for "from the start".
        let after = after.map(|p| p.as_bytes().to_vec()).unwrap_or_default();
        query(
            &c,
            "SELECT pseudonym, wrapped FROM keys WHERE pseudonym > $1 ORDER BY pseudonym LIMIT $2",
            &[&after, &limit(n)],
            op,
        )
        .await?
        .iter()
        .map(|r| Ok((pseudonym(col(r, 0, op)?)?, col(r, 1, op)?)))
        .collect()
    }

    async fn rewrap(&self, subject: &Pseudonym, old: &[u8], new: Vec<u8>) -> Result<bool> {
        let c = conn(&self.pool, "re-wrap key").await?;
        // Compare-and-set: a key destroyed meanwhile stays destroyed (no row to update), and a
        // key another rotation re-wrapped first is not overwritten with a stale wrapping.
        let n = execute(
            &c,
            "UPDATE keys SET wrapped = $3 WHERE pseudonym = $1 AND wrapped = $2",
            &[&subject.as_bytes().as_slice(), &old, &new],
            "re-wrap key",
        )
        .await?;
        Ok(n > 0)
    }

    async fn secret(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let op = "read secret";
        let c = conn(&self.pool, op).await?;
        query_opt(
            &c,
            "SELECT sealed FROM secrets WHERE name = $1",
            &[&name],
            op,
        )
        .await?
        .map(|r| col(&r, 0, op))
        .transpose()
    }

    async fn put_secret(&self, name: &str, sealed: Vec<u8>) -> Result<Vec<u8>> {
        let op = "store secret";
        let c = conn(&self.pool, op).await?;
        // Inserted, or another instance's first: the insert waits for a concurrent insert of
        // the name to commit, and the read after it (a new snapshot) sees the winner.
        let inserted = query_opt(
            &c,
            "INSERT INTO secrets (name, sealed) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING sealed",
            &[&name, &sealed],
            op,
        )
        .await?;
        if let Some(r) = inserted {
            return col(&r, 0, op);
        }
        match query_opt(
            &c,
            "SELECT sealed FROM secrets WHERE name = $1",
            &[&name],
            op,
        )
        .await?
        {
            Some(r) => col(&r, 0, op),
            None => Err(Error::backend(
                op,
                crate::codec::PgFailure::msg("the secret was deleted while it was stored"),
            )),
        }
    }

    async fn rewrap_secret(&self, name: &str, old: &[u8], new: Vec<u8>) -> Result<bool> {
        let c = conn(&self.pool, "re-wrap secret").await?;
        let n = execute(
            &c,
            "UPDATE secrets SET sealed = $3 WHERE name = $1 AND sealed = $2",
            &[&name, &old, &new],
            "re-wrap secret",
        )
        .await?;
        Ok(n > 0)
    }
}
