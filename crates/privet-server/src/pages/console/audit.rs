//! `/console/audit`: the audit log, a page at a time from a point in time, and a button that
//! recomputes the hash chain against the keyring's anchor.

use super::staff::{Area, ConsoleNav, Staff};
use super::{form, when};
use crate::pages::{PageContext, PageError, render, urlencode};
use crate::service::error::{Invalid, ServiceResult};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use privet_store::{AuditEntry, AuditVerdict};
use serde::Deserialize;

/// Entries per page.
const PAGE: usize = 50;
/// How many hex digits of a pseudonym the table shows (the full one is in the tooltip).
const SHORT: usize = 12;

/// A pseudonym, shortened.
#[derive(Debug)]
struct Pseudonym {
    short: String,
    full: String,
}

/// One entry as a row.
#[derive(Debug)]
struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    purpose: String,
    subjects: Vec<Pseudonym>,
    count: u64,
}

impl From<&AuditEntry> for EntryRow {
    fn from(e: &AuditEntry) -> Self {
        EntryRow {
            seq: e.seq,
            at: when(e.entry.at),
            actor: e.entry.actor.clone(),
            action: e.entry.action.clone(),
            purpose: e.entry.purpose.clone().unwrap_or_default(),
            subjects: e
                .entry
                .subjects
                .iter()
                .map(|p| {
                    let full = p.to_string();
                    Pseudonym {
                        short: format!("{}…", full.chars().take(SHORT).collect::<String>()),
                        full,
                    }
                })
                .collect(),
            count: e.entry.count,
        }
    }
}

/// What the verify button found.
#[derive(Debug)]
enum Verified {
    Intact(u64),
    Broken {
        entries: u64,
        seq: i64,
        reason: String,
    },
}

#[derive(Template)]
#[template(path = "pages/console/audit.html")]
struct AuditPage {
    page: PageContext,
    nav: ConsoleNav,
    rows: Vec<EntryRow>,
    since: String,
    since_date: String,
    next: Option<String>,
    verified: Option<Verified>,
}

/// `?since=` (a date, or an RFC 3339 time) and `after=` (skip entries up to this sequence
/// number, for the next page when several entries share a time).
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditQuery {
    since: Option<String>,
    after: Option<i64>,
}

/// Where a page starts: the time given, or seven days ago.
fn parse_since(since: Option<&str>, now: Timestamp) -> ServiceResult<Timestamp> {
    let Some(s) = since.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(now
            .checked_sub(SignedDuration::from_hours(7 * 24))
            .unwrap_or(Timestamp::UNIX_EPOCH));
    };
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| Invalid::Since.into())
}

async fn audit_page(
    state: &AppState,
    staff: &Staff,
    q: &AuditQuery,
    verified: Option<Verified>,
) -> Result<Response, PageError> {
    let since = parse_since(q.since.as_deref(), state.clock().now())?;
    let after = q.after.unwrap_or(0);
    // Entries sharing the first page's time were on the previous page: fetch enough to skip
    // them and still fill this one.
    let mut entries = state.store().audit(Some(since), PAGE * 2).await?;
    let fetched = entries.len();
    entries.retain(|e| e.seq > after);
    let more = entries.len() > PAGE || (fetched == PAGE * 2 && !entries.is_empty());
    entries.truncate(PAGE);
    let next = match entries.last() {
        Some(last) if more => Some(format!(
            "/console/audit?since={}&after={}",
            urlencode(&last.entry.at.to_string()),
            last.seq
        )),
        _ => None,
    };
    render(&AuditPage {
        page: staff.page(state).await?,
        nav: ConsoleNav::new(staff, Area::Audit),
        rows: entries.iter().map(EntryRow::from).collect(),
        since: when(since),
        since_date: privet_policy::utc_date(since).to_string(),
        next,
        verified,
    })
}

/// `GET /console/audit`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Audit)?;
    let Query(q) = q.map_err(|e| PageError::Api(e.into()))?;
    audit_page(&state, &staff, &q, None).await
}

/// The verify form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct VerifyForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/audit/verify`: recomputes the chain up to the keyring's anchor.
pub(super) async fn verify(
    State(state): State<AppState>,
    staff: Staff,
    submitted: Result<Form<VerifyForm>, FormRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Audit)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let AuditVerdict {
        entries,
        first_broken,
    } = crate::service::audit::verify(
        state.store().as_ref(),
        state.keys().keyring().as_ref(),
        state.audit_chain().await?,
        None,
    )
    .await?;
    let verified = match first_broken {
        None => Verified::Intact(entries),
        Some(b) => Verified::Broken {
            entries,
            seq: b.seq,
            reason: b.reason.to_owned(),
        },
    };
    audit_page(&state, &staff, &AuditQuery::default(), Some(verified)).await
}
