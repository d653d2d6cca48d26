//! The audit log: rows of the hash chain, stored as `privet_policy::audit::link` makes them.
//!
//! Appends are serialised by the database (`LOCK TABLE audit IN EXCLUSIVE MODE`, which readers
//! pass), so every instance sharing the schema extends one chain. The hash covers the entry's
//! stored text exactly (`body`); `actor` and `subjects` repeat parts of it in indexed columns so
//! an account's or a subject's entries are found without searching text. This module neither
//! hashes nor verifies.

use crate::codec::{Pg, audit_hash, col, limit, ts};
use crate::pool::{Params, execute, query, query_opt};
use deadpool_postgres::{GenericClient, Object};
use privet_crypto::{AuditHash, Pseudonym};
use privet_policy::audit::{self, AuditChain, AuditEntry, NewAuditEntry, StoredAuditRow};
use privet_store::{Error, Result};
use tokio_postgres::Row;

/// The newest row's sequence number and hash.
pub(crate) async fn head(c: &impl GenericClient) -> Result<Option<(i64, AuditHash)>> {
    let op = "read audit head";
    query_opt(
        c,
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        &[],
        op,
    )
    .await?
    .map(|r| {
        let seq: i64 = col(&r, 0, op)?;
        Ok::<_, Error>((seq, audit_hash(col(&r, 1, op)?)?))
    })
    .transpose()
}

/// Appends `entry` after the newest row, in a transaction holding the table's write lock, so
/// the head read is still the head when the row is written.
pub(crate) async fn append(
    c: &mut Object,
    chain: &AuditChain,
    entry: NewAuditEntry,
) -> Result<AuditEntry> {
    let op = "append audit entry";
    let tx = c.transaction().await.pg(op)?;
    tx.batch_execute("LOCK TABLE audit IN EXCLUSIVE MODE")
        .await
        .pg(op)?;
    let head = head(&tx).await?;
    // The indexed copies, taken before `link` consumes the entry.
    let actor = entry.actor.clone();
    let subjects: Vec<Vec<u8>> = entry
        .subjects
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    let (row, linked) = audit::link(chain, head, entry).map_err(|_| Error::Corrupt {
        what: "audit entry",
    })?;
    execute(
        &tx,
        "INSERT INTO audit (seq, at, body, prev, hash, actor, subjects)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &row.seq,
            &row.at_micros,
            &row.text,
            &row.prev,
            &row.hash,
            &actor,
            &subjects,
        ],
        op,
    )
    .await?;
    tx.commit().await.pg(op)?;
    Ok(linked)
}

const COLUMNS: &str = "seq, at, body, prev, hash";

/// A stored row as it is: a hash of the wrong length is the verifier's to report as a broken
/// entry, not an error reading the log.
fn stored(r: &Row) -> Result<StoredAuditRow> {
    let op = "read audit";
    Ok(StoredAuditRow {
        seq: col(r, 0, op)?,
        at_micros: col(r, 1, op)?,
        text: col(r, 2, op)?,
        prev: col(r, 3, op)?,
        hash: col(r, 4, op)?,
    })
}

/// Rows selected by `tail` (a `WHERE … ORDER BY … LIMIT …`), as stored.
async fn rows(c: &Object, tail: &str, p: Params<'_>) -> Result<Vec<StoredAuditRow>> {
    let sql = format!("SELECT {COLUMNS} FROM audit {tail}");
    query(c, &sql, p, "read audit")
        .await?
        .iter()
        .map(stored)
        .collect()
}

fn decode(row: &StoredAuditRow) -> Result<AuditEntry> {
    row.decode().map_err(|_| Error::Corrupt {
        what: "audit entry",
    })
}

/// Rows from `from_seq` on, in order.
pub(crate) async fn rows_from(c: &Object, from_seq: i64, n: usize) -> Result<Vec<StoredAuditRow>> {
    rows(
        c,
        "WHERE seq >= $1 ORDER BY seq LIMIT $2",
        &[&from_seq, &limit(n)],
    )
    .await
}

/// Entries at or after `since`, oldest first.
pub(crate) async fn list(
    c: &Object,
    since: Option<jiff::Timestamp>,
    n: usize,
) -> Result<Vec<AuditEntry>> {
    let since = since.map_or(i64::MIN, ts);
    rows(
        c,
        "WHERE at >= $1 ORDER BY seq LIMIT $2",
        &[&since, &limit(n)],
    )
    .await?
    .iter()
    .map(decode)
    .collect()
}

/// Entries that list `subject`, found by the indexed `subjects` column.
pub(crate) async fn for_subject(c: &Object, subject: &Pseudonym) -> Result<Vec<AuditEntry>> {
    let needle = vec![subject.as_bytes().to_vec()];
    rows(c, "WHERE subjects @> $1 ORDER BY seq", &[&needle])
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// The newest entries by `actor`, newest first, found by the indexed `actor` column.
pub(crate) async fn by_actor(c: &Object, actor: &str, n: usize) -> Result<Vec<AuditEntry>> {
    rows(
        c,
        "WHERE actor = $1 ORDER BY seq DESC LIMIT $2",
        &[&actor, &limit(n)],
    )
    .await?
    .iter()
    .map(decode)
    .collect()
}
