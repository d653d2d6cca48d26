//! Rights requests and objections. Extending and completing are conditional updates, so of two
//! instances completing one request, one completes it and the other gets `Conflict`.
//!
//! Due dates are `date` columns, written from and read as ISO text (`YYYY-MM-DD`, whatever the
//! server's `DateStyle`): the client knows no jiff type this workspace uses.

use crate::codec::{col, from_opt_ts, from_ts, ts};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_policy::{Objection, PauseReason, SubjectId, VisitorScope};
use privet_store::{Error, Pause, RequestKind, RequestSource, Result, RightsRequest};
use tokio_postgres::Row;

const COLUMNS: &str = "id, kind, subject, received_at, to_char(due, 'YYYY-MM-DD'),
    to_char(extended_due, 'YYYY-MM-DD'), extension_reason, status, completed_at, created_by,
    created_at, source, paused_reason, paused_since, paused_days, visitor_device, visitor_from,
    visitor_until";

fn date(s: &str) -> Result<Date> {
    s.parse().map_err(|_| Error::Corrupt {
        what: "request date",
    })
}

fn decode(r: &Row) -> Result<RightsRequest> {
    let op = "read request";
    let kind: &str = col(r, 1, op)?;
    let status: &str = col(r, 7, op)?;
    Ok(RightsRequest {
        id: col(r, 0, op)?,
        kind: RequestKind::parse(kind).ok_or(Error::Corrupt {
            what: "request kind",
        })?,
        subject: SubjectId::new(col::<String>(r, 2, op)?),
        received_at: from_ts(col(r, 3, op)?)?,
        due: date(col(r, 4, op)?)?,
        extended_due: col::<Option<&str>>(r, 5, op)?.map(date).transpose()?,
        extension_reason: col(r, 6, op)?,
        done: status == "done",
        completed_at: from_opt_ts(col(r, 8, op)?)?,
        created_by: col(r, 9, op)?,
        created_at: from_ts(col(r, 10, op)?)?,
        source: RequestSource::parse(col(r, 11, op)?).ok_or(Error::Corrupt {
            what: "request source",
        })?,
        pause: match (
            col::<Option<&str>>(r, 12, op)?,
            col::<Option<i64>>(r, 13, op)?,
        ) {
            (None, None) => None,
            (Some(reason), Some(since)) => Some(Pause {
                reason: PauseReason::parse(reason).ok_or(Error::Corrupt {
                    what: "request pause",
                })?,
                since: from_ts(since)?,
            }),
            _ => {
                return Err(Error::Corrupt {
                    what: "request pause",
                });
            }
        },
        paused_days: u32::try_from(col::<i32>(r, 14, op)?).map_err(|_| Error::Corrupt {
            what: "request paused days",
        })?,
        visitor: match (
            col::<Option<String>>(r, 15, op)?,
            col::<Option<i64>>(r, 16, op)?,
            col::<Option<i64>>(r, 17, op)?,
        ) {
            (None, None, None) => None,
            (Some(device), Some(from), Some(until)) => Some(VisitorScope {
                device,
                from: from_ts(from)?,
                until: from_ts(until)?,
            }),
            _ => {
                return Err(Error::Corrupt {
                    what: "request visitor",
                });
            }
        },
    })
}

/// Stores a new request.
pub(crate) async fn create(c: &impl GenericClient, r: &RightsRequest) -> Result<()> {
    insert(
        c,
        "INSERT INTO requests (id, kind, subject, received_at, due, extended_due,
                               extension_reason, status, completed_at, created_by, created_at,
                               source, paused_reason, paused_since, paused_days, visitor_device,
                               visitor_from, visitor_until)
         VALUES ($1, $2, $3, $4, $5::text::date, $6::text::date, $7, $8, $9, $10, $11, $12, $13,
                 $14, $15, $16, $17, $18)",
        &[
            &r.id,
            &r.kind.as_str(),
            &r.subject.as_str(),
            &ts(r.received_at),
            &r.due.to_string(),
            &r.extended_due.map(|d| d.to_string()),
            &r.extension_reason,
            &if r.done { "done" } else { "open" },
            &r.completed_at.map(ts),
            &r.created_by,
            &ts(r.created_at),
            &r.source.as_str(),
            &r.pause.map(|p| p.reason.as_str()),
            &r.pause.map(|p| ts(p.since)),
            &i32::try_from(r.paused_days).unwrap_or(i32::MAX),
            &r.visitor.as_ref().map(|v| v.device.as_str()),
            &r.visitor.as_ref().map(|v| ts(v.from)),
            &r.visitor.as_ref().map(|v| ts(v.until)),
        ],
        ("request", &r.id),
        "create request",
    )
    .await?;
    Ok(())
}

/// The request after a conditional update: `Conflict` if its condition failed (the request
/// is not in the state the update expects), `NotFound` if there is no such request.
async fn after(c: &impl GenericClient, changed: Option<Row>, id: &str) -> Result<RightsRequest> {
    match changed {
        Some(r) => decode(&r),
        None => {
            get(c, id).await?;
            Err(Error::conflict("request", id))
        }
    }
}

/// Extends an open request once.
pub(crate) async fn extend(
    c: &impl GenericClient,
    id: &str,
    due: Date,
    reason: &str,
) -> Result<RightsRequest> {
    let sql = format!(
        "UPDATE requests SET extended_due = $2::text::date, extension_reason = $3
         WHERE id = $1 AND status = 'open' AND extended_due IS NULL
         RETURNING {COLUMNS}"
    );
    let row = query_opt(c, &sql, &[&id, &due.to_string(), &reason], "extend request").await?;
    after(c, row, id).await
}

/// Claims an open request until `until`, unless another claim holds it at `at`.
pub(crate) async fn claim(
    c: &impl GenericClient,
    id: &str,
    at: Timestamp,
    until: Timestamp,
) -> Result<RightsRequest> {
    let sql = format!(
        "UPDATE requests SET claimed_until = $3
         WHERE id = $1 AND status = 'open' AND paused_since IS NULL
           AND (claimed_until IS NULL OR claimed_until <= $2)
         RETURNING {COLUMNS}"
    );
    let row = query_opt(c, &sql, &[&id, &ts(at), &ts(until)], "claim request").await?;
    after(c, row, id).await
}

/// Gives up the claim made with `until`, if it still holds the open request.
pub(crate) async fn release(c: &impl GenericClient, id: &str, until: Timestamp) -> Result<()> {
    execute(
        c,
        "UPDATE requests SET claimed_until = NULL
         WHERE id = $1 AND status = 'open' AND claimed_until = $2",
        &[&id, &ts(until)],
        "release request",
    )
    .await?;
    Ok(())
}

/// Stops an open, running request's clock.
pub(crate) async fn pause_clock(
    c: &impl GenericClient,
    id: &str,
    reason: PauseReason,
    at: Timestamp,
) -> Result<RightsRequest> {
    let sql = format!(
        "UPDATE requests SET paused_reason = $2, paused_since = $3
         WHERE id = $1 AND status = 'open' AND paused_since IS NULL
           AND (claimed_until IS NULL OR claimed_until <= $3)
         RETURNING {COLUMNS}"
    );
    let row = query_opt(c, &sql, &[&id, &reason.as_str(), &ts(at)], "pause request").await?;
    after(c, row, id).await
}

/// Restarts the clock stopped at `since`, adding the days it stood still.
pub(crate) async fn resume_clock(
    c: &impl GenericClient,
    id: &str,
    since: Timestamp,
    days: u32,
) -> Result<RightsRequest> {
    let sql = format!(
        "UPDATE requests SET paused_reason = NULL, paused_since = NULL,
             paused_days = paused_days + $3
         WHERE id = $1 AND status = 'open' AND paused_since = $2
         RETURNING {COLUMNS}"
    );
    let days = i32::try_from(days).unwrap_or(i32::MAX);
    let row = query_opt(c, &sql, &[&id, &ts(since), &days], "resume request").await?;
    after(c, row, id).await
}

/// Completes an open request, once.
pub(crate) async fn complete(
    c: &impl GenericClient,
    id: &str,
    at: Timestamp,
) -> Result<RightsRequest> {
    let sql = format!(
        "UPDATE requests SET status = 'done', completed_at = $2
         WHERE id = $1 AND status = 'open' AND paused_since IS NULL
         RETURNING {COLUMNS}"
    );
    let row = query_opt(c, &sql, &[&id, &ts(at)], "complete request").await?;
    after(c, row, id).await
}

/// One request.
pub(crate) async fn get(c: &impl GenericClient, id: &str) -> Result<RightsRequest> {
    let sql = format!("SELECT {COLUMNS} FROM requests WHERE id = $1");
    match query_opt(c, &sql, &[&id], "read request").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("request", id)),
    }
}

/// Every request, by due date.
pub(crate) async fn all(c: &impl GenericClient) -> Result<Vec<RightsRequest>> {
    let sql = format!("SELECT {COLUMNS} FROM requests ORDER BY due, received_at, id");
    query(c, &sql, &[], "list requests")
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Records an objection and bumps the household's version (run it in a transaction).
pub(crate) async fn object(c: &impl GenericClient, o: &Objection) -> Result<()> {
    execute(
        c,
        "INSERT INTO objections (subject, product, purpose, at, actor) VALUES ($1, $2, $3, $4, $5)",
        &[
            &o.subject.as_str(),
            &o.product,
            &o.purpose,
            &ts(o.at),
            &o.actor,
        ],
        "record objection",
    )
    .await?;
    crate::subjects::bump_household_of(c, &o.subject).await
}

/// The objections of these subjects, each subject's in order, subjects in the order given.
pub(crate) async fn objections(
    c: &impl GenericClient,
    subjects: &[SubjectId],
) -> Result<Vec<Objection>> {
    let ids: Vec<&str> = subjects.iter().map(SubjectId::as_str).collect();
    let op = "read objections";
    query(
        c,
        "SELECT o.subject, o.product, o.purpose, o.at, o.actor
         FROM objections o
         JOIN unnest($1::text[]) WITH ORDINALITY AS s(id, pos) ON o.subject = s.id
         ORDER BY s.pos, o.seq",
        &[&ids],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Objection {
            subject: SubjectId::new(col::<String>(r, 0, op)?),
            product: col(r, 1, op)?,
            purpose: col(r, 2, op)?,
            at: from_ts(col(r, 3, op)?)?,
            actor: col(r, 4, op)?,
        })
    })
    .collect()
}
