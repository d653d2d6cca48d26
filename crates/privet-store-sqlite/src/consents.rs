//! Consent history: every decision is appended and read back whole. Which decision is in
//! force is `privet_policy::ConsentLedger`'s to say, not a query's.

use crate::codec::{from_ts, ts};
use crate::rows;
use privet_policy::{ConsentRecord, NewConsent, SubjectId};
use privet_store::{Context, Result};
use rusqlite::{Connection, params};

const COLUMNS: &str =
    "seq, subject, product, purpose, granted, manifest_version, at, actor, channel";

type RawConsent = (
    i64,
    String,
    Option<String>,
    String,
    bool,
    String,
    i64,
    String,
    String,
);

fn decode(raw: RawConsent) -> Result<ConsentRecord> {
    let (seq, subject, product, purpose, granted, manifest_version, at, actor, channel) = raw;
    Ok(ConsentRecord {
        seq,
        consent: NewConsent {
            subject: SubjectId::new(subject),
            product,
            purpose,
            granted,
            manifest_version,
            at: from_ts(at)?,
            actor,
            channel,
        },
    })
}

/// Appends a decision.
pub(crate) fn record(c: &Connection, n: &NewConsent) -> Result<ConsentRecord> {
    c.execute(
        "INSERT INTO consents (subject, product, purpose, granted, manifest_version, at, actor, channel) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            n.subject.as_str(),
            n.product,
            n.purpose,
            n.granted,
            n.manifest_version,
            ts(n.at),
            n.actor,
            n.channel
        ],
    )
    .op("record consent")?;
    let seq = c.last_insert_rowid();
    crate::subjects::bump_household_of(c, &n.subject)?;
    Ok(ConsentRecord {
        seq,
        consent: n.clone(),
    })
}

/// One subject's history, oldest first.
pub(crate) fn history(c: &Connection, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM consents WHERE subject = ?1 ORDER BY seq"
        ))
        .op("read consents")?;
    rows::decode_all(&mut stmt, [subject.as_str()], "read consents", decode)
}

/// The whole histories of these subjects, oldest first across all of them.
pub(crate) fn histories(c: &Connection, subjects: &[SubjectId]) -> Result<Vec<ConsentRecord>> {
    let unique: std::collections::BTreeSet<&SubjectId> = subjects.iter().collect();
    let mut out = Vec::new();
    for s in unique {
        out.extend(history(c, s)?);
    }
    out.sort_by_key(|r| r.seq);
    Ok(out)
}
