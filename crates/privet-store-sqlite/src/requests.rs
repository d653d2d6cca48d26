//! Rights requests and objections.

use crate::codec::{conflict_or, from_opt_ts, from_ts, ts};
use crate::rows;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_policy::{Objection, PauseReason, SubjectId, VisitorScope};
use privet_store::{Context, Error, Pause, RequestKind, RequestSource, Result, RightsRequest};
use rusqlite::{Connection, Row, params};

const COLUMNS: &str = "id, kind, subject, received_at, due, extended_due, extension_reason, status, completed_at, created_by, created_at, source, paused_reason, paused_since, paused_days, visitor_device, visitor_from, visitor_until";

fn decode(r: &Row<'_>) -> Result<RightsRequest> {
    let e = |e: rusqlite::Error| Error::backend("read request", e);
    let date = |s: String| {
        s.parse::<jiff::civil::Date>().map_err(|_| Error::Corrupt {
            what: "request date",
        })
    };
    let kind: String = r.get(1).map_err(e)?;
    let status: String = r.get(7).map_err(e)?;
    let extended: Option<String> = r.get(5).map_err(e)?;
    Ok(RightsRequest {
        id: r.get(0).map_err(e)?,
        kind: RequestKind::parse(&kind).ok_or(Error::Corrupt {
            what: "request kind",
        })?,
        subject: SubjectId::new(r.get::<_, String>(2).map_err(e)?),
        received_at: from_ts(r.get(3).map_err(e)?)?,
        due: date(r.get(4).map_err(e)?)?,
        extended_due: extended.map(date).transpose()?,
        extension_reason: r.get(6).map_err(e)?,
        done: status == "done",
        completed_at: from_opt_ts(r.get(8).map_err(e)?)?,
        created_by: r.get(9).map_err(e)?,
        created_at: from_ts(r.get(10).map_err(e)?)?,
        source: RequestSource::parse(&r.get::<_, String>(11).map_err(e)?).ok_or(
            Error::Corrupt {
                what: "request source",
            },
        )?,
        pause: pause(r.get(12).map_err(e)?, r.get(13).map_err(e)?)?,
        paused_days: r.get(14).map_err(e)?,
        visitor: visitor(
            r.get(15).map_err(e)?,
            r.get(16).map_err(e)?,
            r.get(17).map_err(e)?,
        )?,
    })
}

fn pause(reason: Option<String>, since: Option<i64>) -> Result<Option<Pause>> {
    match (reason, since) {
        (None, None) => Ok(None),
        (Some(reason), Some(since)) => Ok(Some(Pause {
            reason: PauseReason::parse(&reason).ok_or(Error::Corrupt {
                what: "request pause",
            })?,
            since: from_ts(since)?,
        })),
        _ => Err(Error::Corrupt {
            what: "request pause",
        }),
    }
}

fn visitor(
    device: Option<String>,
    from: Option<i64>,
    until: Option<i64>,
) -> Result<Option<VisitorScope>> {
    match (device, from, until) {
        (None, None, None) => Ok(None),
        (Some(device), Some(from), Some(until)) => Ok(Some(VisitorScope {
            device,
            from: from_ts(from)?,
            until: from_ts(until)?,
        })),
        _ => Err(Error::Corrupt {
            what: "request visitor",
        }),
    }
}

/// Stores a new request.
pub(crate) fn create(c: &Connection, r: &RightsRequest) -> Result<()> {
    c.execute(
        &format!(
            "INSERT INTO requests ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ),
        params![
            r.id,
            r.kind.as_str(),
            r.subject.as_str(),
            ts(r.received_at),
            r.due.to_string(),
            r.extended_due.map(|d| d.to_string()),
            r.extension_reason,
            if r.done { "done" } else { "open" },
            r.completed_at.map(ts),
            r.created_by,
            ts(r.created_at),
            r.source.as_str(),
            r.pause.map(|p| p.reason.as_str()),
            r.pause.map(|p| ts(p.since)),
            r.paused_days,
            r.visitor.as_ref().map(|v| v.device.as_str()),
            r.visitor.as_ref().map(|v| ts(v.from)),
            r.visitor.as_ref().map(|v| ts(v.until))
        ],
    )
    .map_err(|e| conflict_or(e, "request", &r.id, "create request"))?;
    Ok(())
}

/// The request after a conditional write: `Conflict` if the write's condition failed (its
/// state is not what the write expects), `NotFound` if there is no such request.
fn after(c: &Connection, n: usize, id: &str) -> Result<RightsRequest> {
    let r = get(c, id)?;
    if n == 0 {
        return Err(Error::conflict("request", id));
    }
    Ok(r)
}

/// Extends an open request once.
pub(crate) fn extend(c: &Connection, id: &str, due: Date, reason: &str) -> Result<RightsRequest> {
    let n = c
        .execute(
            "UPDATE requests SET extended_due = ?2, extension_reason = ?3
             WHERE id = ?1 AND status = 'open' AND extended_due IS NULL",
            params![id, due.to_string(), reason],
        )
        .op("extend request")?;
    after(c, n, id)
}

/// Claims an open request until `until`, unless another claim holds it at `at`.
pub(crate) fn claim(
    c: &Connection,
    id: &str,
    at: Timestamp,
    until: Timestamp,
) -> Result<RightsRequest> {
    let n = c
        .execute(
            "UPDATE requests SET claimed_until = ?3
             WHERE id = ?1 AND status = 'open' AND paused_since IS NULL
               AND (claimed_until IS NULL OR claimed_until <= ?2)",
            params![id, ts(at), ts(until)],
        )
        .op("claim request")?;
    after(c, n, id)
}

/// Gives up the claim made with `until`, if it still holds the open request.
pub(crate) fn release(c: &Connection, id: &str, until: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE requests SET claimed_until = NULL
         WHERE id = ?1 AND status = 'open' AND claimed_until = ?2",
        params![id, ts(until)],
    )
    .op("release request")?;
    Ok(())
}

/// Stops an open, running request's clock.
pub(crate) fn pause_clock(
    c: &Connection,
    id: &str,
    reason: PauseReason,
    at: Timestamp,
) -> Result<RightsRequest> {
    let n = c
        .execute(
            "UPDATE requests SET paused_reason = ?2, paused_since = ?3
             WHERE id = ?1 AND status = 'open' AND paused_since IS NULL
               AND (claimed_until IS NULL OR claimed_until <= ?3)",
            params![id, reason.as_str(), ts(at)],
        )
        .op("pause request")?;
    after(c, n, id)
}

/// Restarts the clock stopped at `since`, adding the days it stood still.
pub(crate) fn resume_clock(
    c: &Connection,
    id: &str,
    since: Timestamp,
    days: u32,
) -> Result<RightsRequest> {
    let n = c
        .execute(
            "UPDATE requests SET paused_reason = NULL, paused_since = NULL,
                 paused_days = paused_days + ?3
             WHERE id = ?1 AND status = 'open' AND paused_since = ?2",
            params![id, ts(since), days],
        )
        .op("resume request")?;
    after(c, n, id)
}

/// Completes an open request, once.
pub(crate) fn complete(c: &Connection, id: &str, at: Timestamp) -> Result<RightsRequest> {
    let n = c
        .execute(
            "UPDATE requests SET status = 'done', completed_at = ?2
             WHERE id = ?1 AND status = 'open' AND paused_since IS NULL",
            params![id, ts(at)],
        )
        .op("complete request")?;
    after(c, n, id)
}

/// One request.
pub(crate) fn get(c: &Connection, id: &str) -> Result<RightsRequest> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM requests WHERE id = ?1"))
        .op("read request")?;
    rows::first(&mut stmt, [id], "read request", decode)?
        .ok_or_else(|| Error::not_found("request", id))
}

/// Every request, by due date.
pub(crate) fn all(c: &Connection) -> Result<Vec<RightsRequest>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM requests ORDER BY due, received_at, id"
        ))
        .op("list requests")?;
    rows::collect(&mut stmt, [], "list requests", decode)
}

/// Records an objection.
pub(crate) fn object(c: &Connection, o: &Objection) -> Result<()> {
    c.execute(
        "INSERT INTO objections (subject, product, purpose, at, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![o.subject.as_str(), o.product, o.purpose, ts(o.at), o.actor],
    )
    .op("record objection")?;
    crate::subjects::bump_household_of(c, &o.subject)
}

/// The objections of these subjects.
pub(crate) fn objections(c: &Connection, subjects: &[SubjectId]) -> Result<Vec<Objection>> {
    let mut stmt = c
        .prepare_cached("SELECT subject, product, purpose, at, actor FROM objections WHERE subject = ?1 ORDER BY seq")
        .op("read objections")?;
    let mut out = Vec::new();
    for s in subjects {
        out.extend(rows::decode_all(
            &mut stmt,
            [s.as_str()],
            "read objections",
            decode_objection,
        )?);
    }
    Ok(out)
}

type RawObjection = (String, Option<String>, String, i64, String);

fn decode_objection(raw: RawObjection) -> Result<Objection> {
    let (subject, product, purpose, at, actor) = raw;
    Ok(Objection {
        subject: SubjectId::new(subject),
        product,
        purpose,
        at: from_ts(at)?,
        actor,
    })
}
