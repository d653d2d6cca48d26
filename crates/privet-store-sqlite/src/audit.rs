//! The audit log: rows of the hash chain, stored as `privet_policy::audit::link` makes them.
//!
//! The hash covers the entry's stored text exactly (`body`), so verification never depends on
//! how JSON happens to be re-serialised; this module neither hashes nor verifies.

use crate::codec::{audit_hash, limit, ts};
use privet_crypto::{AuditHash, Pseudonym};
use privet_policy::audit::{self, AuditChain, AuditEntry, NewAuditEntry, StoredAuditRow};
use privet_store::{Context, Error, Result};
use rusqlite::{Connection, OptionalExtension, Params, params};

/// Appends `entry` after the newest row. Runs on the writer, inside its transaction, so the
/// head read here is still the head when the row is written.
/// The newest row's sequence number and hash.
pub(crate) fn head(c: &Connection) -> Result<Option<(i64, AuditHash)>> {
    let head: Option<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .op("read audit head")?;
    head.map(|(seq, hash)| Ok((seq, audit_hash(&hash)?)))
        .transpose()
}

pub(crate) fn append(
    c: &Connection,
    chain: &AuditChain,
    entry: NewAuditEntry,
) -> Result<AuditEntry> {
    let head = head(c)?;
    let (row, linked) = audit::link(chain, head, entry).map_err(|_| Error::Corrupt {
        what: "audit entry",
    })?;
    c.prepare_cached("INSERT INTO audit (seq, at, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)")
        .and_then(|mut s| {
            s.execute(params![
                row.seq,
                row.at_micros,
                row.text,
                row.prev,
                row.hash
            ])
        })
        .op("append audit entry")?;
    Ok(linked)
}

const COLUMNS: &str = "seq, at, body, prev, hash";

/// A row's columns.
type RawRow = (i64, i64, String, Vec<u8>, Vec<u8>);

/// A stored row as it is: a hash of the wrong length is the verifier's to report as a broken
/// entry, not an error reading the log.
fn stored(raw: RawRow) -> Result<StoredAuditRow> {
    let (seq, at_micros, text, prev, hash) = raw;
    Ok(StoredAuditRow {
        seq,
        at_micros,
        text,
        prev,
        hash,
    })
}

/// Rows selected by `filter` (a `WHERE … ORDER BY … LIMIT …` tail), as stored.
fn rows(c: &Connection, filter: &str, p: impl Params) -> Result<Vec<StoredAuditRow>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM audit {filter}"))
        .op("read audit")?;
    crate::rows::decode_all(&mut stmt, p, "read audit", stored)
}

fn decode(row: &StoredAuditRow) -> Result<AuditEntry> {
    row.decode().map_err(|_| Error::Corrupt {
        what: "audit entry",
    })
}

/// Rows from `from_seq` on, in order.
pub(crate) fn rows_from(c: &Connection, from_seq: i64, n: usize) -> Result<Vec<StoredAuditRow>> {
    rows(
        c,
        "WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        params![from_seq, limit(n)],
    )
}

/// Entries at or after `since`, oldest first.
pub(crate) fn list(
    c: &Connection,
    since: Option<jiff::Timestamp>,
    n: usize,
) -> Result<Vec<AuditEntry>> {
    let since = since.map_or(i64::MIN, ts);
    rows(
        c,
        "WHERE at >= ?1 ORDER BY seq LIMIT ?2",
        params![since, limit(n)],
    )?
    .iter()
    .map(decode)
    .collect()
}

/// Entries that list `subject`.
pub(crate) fn for_subject(c: &Connection, subject: &Pseudonym) -> Result<Vec<AuditEntry>> {
    // Subjects are listed by pseudonym inside the body; the hex form cannot occur by accident,
    // and each match is confirmed on the decoded entry.
    let needle = format!("%\"{subject}\"%");
    let mut out = Vec::new();
    for row in rows(c, "WHERE body LIKE ?1 ORDER BY seq", [needle])? {
        let e = decode(&row)?;
        if e.entry.subjects.contains(subject) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The newest entries by `actor`, newest first.
pub(crate) fn by_actor(c: &Connection, actor: &str, n: usize) -> Result<Vec<AuditEntry>> {
    let needle = format!(
        "%\"actor\":{}%",
        serde_json::Value::String(actor.to_owned())
    );
    let mut out = Vec::new();
    for row in rows(
        c,
        "WHERE body LIKE ?1 ORDER BY seq DESC LIMIT ?2",
        params![needle, limit(n)],
    )? {
        let e = decode(&row)?;
        if e.entry.actor == actor {
            out.push(e);
        }
    }
    Ok(out)
}
