//! The audit log: append-only, each entry hash-chained to the previous one.
//!
//! The hash covers the entry's stored text exactly (`body`), so verification never depends on
//! how JSON happens to be re-serialised.

use super::codec::{audit_hash, from_ts, ts};
use crate::error::{Context, Error, Result};
use crate::model::{AuditEntry, AuditVerdict, BrokenEntry, NewAuditEntry};
use privet_crypto::{AuditHash, Pseudonym, chain_hash};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// What is hashed and stored for one entry.
#[derive(Serialize, Deserialize)]
struct Body {
    seq: i64,
    #[serde(flatten)]
    entry: NewAuditEntry,
}

pub(crate) fn append(c: &Connection, entry: NewAuditEntry) -> Result<AuditEntry> {
    let last: Option<(i64, Vec<u8>)> = c
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .op("read audit head")?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, audit_hash(&hash)?),
        None => (1, AuditHash::GENESIS),
    };
    let body = Body { seq, entry };
    let text = serde_json::to_string(&body).map_err(|_| Error::Corrupt {
        what: "audit entry",
    })?;
    let hash = chain_hash(&prev, text.as_bytes());
    c.execute(
        "INSERT INTO audit (seq, at, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            seq,
            ts(body.entry.at),
            text,
            prev.as_bytes().as_slice(),
            hash.as_bytes().as_slice()
        ],
    )
    .op("append audit entry")?;
    Ok(AuditEntry {
        seq,
        entry: body.entry,
        prev,
        hash,
    })
}

fn decode(seq: i64, body: &str, prev: &[u8], hash: &[u8]) -> Result<AuditEntry> {
    let b: Body = serde_json::from_str(body).map_err(|_| Error::Corrupt {
        what: "audit entry",
    })?;
    Ok(AuditEntry {
        seq,
        entry: b.entry,
        prev: audit_hash(prev)?,
        hash: audit_hash(hash)?,
    })
}

pub(crate) fn list(
    c: &Connection,
    since: Option<jiff::Timestamp>,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, body, prev, hash FROM audit WHERE at >= ?1 ORDER BY seq LIMIT ?2",
        )
        .op("read audit")?;
    let since = since.map_or(i64::MIN, ts);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![since, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .op("read audit")?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, body, prev, hash) = row.op("read audit")?;
        out.push(decode(seq, &body, &prev, &hash)?);
    }
    Ok(out)
}

pub(crate) fn for_subject(c: &Connection, subject: &Pseudonym) -> Result<Vec<AuditEntry>> {
    // Subjects are listed by pseudonym inside the body; the hex form cannot occur by accident.
    let needle = format!("%\"{subject}\"%");
    let mut stmt = c
        .prepare_cached("SELECT seq, body, prev, hash FROM audit WHERE body LIKE ?1 ORDER BY seq")
        .op("read audit")?;
    let rows = stmt
        .query_map([needle], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .op("read audit")?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, body, prev, hash) = row.op("read audit")?;
        let e = decode(seq, &body, &prev, &hash)?;
        if e.entry.subjects.contains(subject) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Recomputes the chain from the first entry, checking sequence, links, hashes and the anchor.
pub(crate) fn verify(c: &Connection, anchor: Option<(i64, AuditHash)>) -> Result<AuditVerdict> {
    let mut stmt = c
        .prepare("SELECT seq, at, body, prev, hash FROM audit ORDER BY seq")
        .op("verify audit")?;
    let mut rows = stmt.query([]).op("verify audit")?;
    let mut expected_seq = 1i64;
    let mut prev = AuditHash::GENESIS;
    let mut entries = 0u64;
    let broken = |seq: i64, reason: &str| BrokenEntry {
        seq,
        reason: reason.to_owned(),
    };
    while let Some(row) = rows.next().op("verify audit")? {
        let seq: i64 = row.get(0).op("verify audit")?;
        let at: i64 = row.get(1).op("verify audit")?;
        let body: String = row.get(2).op("verify audit")?;
        let stored_prev: Vec<u8> = row.get(3).op("verify audit")?;
        let stored_hash: Vec<u8> = row.get(4).op("verify audit")?;
        let verdict = |b: BrokenEntry| {
            Ok(AuditVerdict {
                entries,
                first_broken: Some(b),
            })
        };
        if seq != expected_seq {
            return verdict(broken(expected_seq, "entry missing or out of order"));
        }
        if stored_prev.as_slice() != prev.as_bytes().as_slice() {
            return verdict(broken(seq, "does not link to the previous entry"));
        }
        let hash = chain_hash(&prev, body.as_bytes());
        if stored_hash.as_slice() != hash.as_bytes().as_slice() {
            return verdict(broken(seq, "content does not match its hash"));
        }
        match serde_json::from_str::<Body>(&body) {
            Ok(b) if b.seq == seq && ts(b.entry.at) == at => {}
            _ => return verdict(broken(seq, "columns do not match the hashed content")),
        }
        let _ = from_ts(at)?;
        prev = hash;
        expected_seq += 1;
        entries += 1;
    }
    if let Some((anchor_seq, anchor_hash)) = anchor {
        let last = expected_seq - 1;
        if anchor_seq > last {
            return Ok(AuditVerdict {
                entries,
                first_broken: Some(broken(
                    last + 1,
                    "entries at the end of the log were removed",
                )),
            });
        }
        let at_anchor: Option<Vec<u8>> = c
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [anchor_seq], |r| {
                r.get(0)
            })
            .optional()
            .op("verify audit anchor")?;
        if at_anchor.as_deref() != Some(anchor_hash.as_bytes().as_slice()) {
            return Ok(AuditVerdict {
                entries,
                first_broken: Some(broken(
                    anchor_seq,
                    "does not match the anchor kept in the keyring",
                )),
            });
        }
    }
    Ok(AuditVerdict {
        entries,
        first_broken: None,
    })
}

pub(crate) fn by_actor(c: &Connection, actor: &str, limit: usize) -> Result<Vec<AuditEntry>> {
    let needle = format!(
        "%\"actor\":{}%",
        serde_json::Value::String(actor.to_owned())
    );
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, body, prev, hash FROM audit WHERE body LIKE ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .op("read audit")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![needle, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .op("read audit")?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, body, prev, hash) = row.op("read audit")?;
        let e = decode(seq, &body, &prev, &hash)?;
        if e.entry.actor == actor {
            out.push(e);
        }
    }
    Ok(out)
}
