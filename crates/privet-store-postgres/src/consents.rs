//! Consent history: every decision is appended and read back whole. Which decision is in
//! force is `privet_policy::ConsentLedger`'s to say, not a query's.

use crate::codec::{col, from_ts, ts};
use crate::pool::{query, query_one};
use deadpool_postgres::GenericClient;
use privet_policy::{ConsentRecord, NewConsent, SubjectId};
use privet_store::Result;
use tokio_postgres::Row;

const COLUMNS: &str =
    "seq, subject, product, purpose, granted, manifest_version, at, actor, channel";

fn decode(r: &Row) -> Result<ConsentRecord> {
    let op = "read consents";
    Ok(ConsentRecord {
        seq: col(r, 0, op)?,
        consent: NewConsent {
            subject: SubjectId::new(col::<String>(r, 1, op)?),
            product: col(r, 2, op)?,
            purpose: col(r, 3, op)?,
            granted: col(r, 4, op)?,
            manifest_version: col(r, 5, op)?,
            at: from_ts(col(r, 6, op)?)?,
            actor: col(r, 7, op)?,
            channel: col(r, 8, op)?,
        },
    })
}

/// Appends a decision and bumps the household's version (run it in a transaction).
pub(crate) async fn record(c: &impl GenericClient, n: &NewConsent) -> Result<ConsentRecord> {
    let row = query_one(
        c,
        "INSERT INTO consents (subject, product, purpose, granted, manifest_version, at, actor, channel)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING seq",
        &[
            &n.subject.as_str(),
            &n.product,
            &n.purpose,
            &n.granted,
            &n.manifest_version,
            &ts(n.at),
            &n.actor,
            &n.channel,
        ],
        "record consent",
    )
    .await?;
    crate::subjects::bump_household_of(c, &n.subject).await?;
    Ok(ConsentRecord {
        seq: col(&row, 0, "record consent")?,
        consent: n.clone(),
    })
}

/// One subject's history, oldest first.
pub(crate) async fn history(
    c: &impl GenericClient,
    subject: &SubjectId,
) -> Result<Vec<ConsentRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE subject = $1 ORDER BY seq");
    query(c, &sql, &[&subject.as_str()], "read consents")
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// The whole histories of these subjects, oldest first across all of them, in one statement
/// (so of one moment).
pub(crate) async fn histories(
    c: &impl GenericClient,
    subjects: &[SubjectId],
) -> Result<Vec<ConsentRecord>> {
    let ids: Vec<&str> = subjects.iter().map(SubjectId::as_str).collect();
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE subject = ANY($1) ORDER BY seq");
    query(c, &sql, &[&ids], "read consents")
        .await?
        .iter()
        .map(decode)
        .collect()
}
