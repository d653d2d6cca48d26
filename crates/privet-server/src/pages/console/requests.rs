//! `/console/requests`: rights requests received by e-mail or phone, overdue ones first; log
//! a new one, or extend one once. Completing one is in `request_completion.rs`.

use super::staff::{Area, ConsoleNav, Staff};
use super::{form, message_of, status_of, when_opt};
use crate::pages::{PageContext, PageError, render_status};
use crate::service::error::{Invalid, ServiceResult};
use crate::service::requests::{self, About, Status, acknowledge_by, status};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use privet_store::{RequestKind, RequestSource, RightsRequest, SubjectId, VisitorScope};
use serde::Deserialize;

/// Every kind, in the order the form offers them: value, short name, long name.
const KINDS: [(RequestKind, &str, &str); 7] = [
    (
        RequestKind::Access,
        "Access",
        "Access: a copy of their data (Art. 15)",
    ),
    (
        RequestKind::Erasure,
        "Erasure",
        "Erasure: delete their data (Art. 17)",
    ),
    (
        RequestKind::Rectification,
        "Rectification",
        "Rectification: correct their details (Art. 16)",
    ),
    (
        RequestKind::Restriction,
        "Restriction",
        "Restriction: stop using their data (Art. 18)",
    ),
    (
        RequestKind::Objection,
        "Objection",
        "Objection to legitimate-interests uses (Art. 21)",
    ),
    (
        RequestKind::Portability,
        "Portability",
        "Portability: their data, machine-readable (Art. 20)",
    ),
    (
        RequestKind::Complaint,
        "Complaint",
        "Complaint about how their data is used (acknowledge within 30 days)",
    ),
];

fn names(kind: RequestKind) -> (&'static str, &'static str) {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or(("Request", "Request"), |(_, short, long)| (*short, *long))
}

/// A request as a row of the table (or the detail page).
#[derive(Debug)]
struct RequestRow {
    id: String,
    kind: &'static str,
    kind_long: &'static str,
    subject: String,
    received: String,
    due: String,
    original_due: Option<String>,
    /// How the deadline came to move: "Extended" or "Moved by pauses".
    moved: &'static str,
    extension_reason: Option<String>,
    status: String,
    overdue: bool,
    done: bool,
    paused: bool,
    paused_since: Option<String>,
    paused_days: u32,
    acknowledge_by: Option<String>,
    self_service: bool,
    visitor: Option<String>,
    created_by: String,
    completed: String,
}

fn row(r: &RightsRequest, today: Date) -> RequestRow {
    let (due, st) = status(r, today);
    let (kind, kind_long) = names(r.kind);
    let status = match st {
        Status::Done => "Done".to_owned(),
        Status::Open => match (due - today).get_days() {
            0 => "Open: due today".to_owned(),
            1 => "Open: due tomorrow".to_owned(),
            n => format!("Open: due in {n} days"),
        },
        Status::Overdue => match (today - due).get_days() {
            1 => "Overdue by 1 day".to_owned(),
            n => format!("Overdue by {n} days"),
        },
        Status::AwaitingIdentity => "Paused: waiting for proof of identity".to_owned(),
        Status::AwaitingClarification => "Paused: waiting for a clarification".to_owned(),
    };
    RequestRow {
        id: r.id.clone(),
        kind,
        kind_long,
        subject: r.subject.to_string(),
        received: privet_policy::uk_date(r.received_at).to_string(),
        due: due.to_string(),
        original_due: (due != r.due).then(|| r.due.to_string()),
        moved: if r.extended_due.is_some() {
            "Extended"
        } else {
            "Moved by pauses"
        },
        extension_reason: r.extension_reason.clone(),
        status,
        overdue: st == Status::Overdue,
        done: st == Status::Done,
        paused: r.pause.is_some() && !r.done,
        paused_since: r.pause.map(|p| when_opt(Some(p.since))),
        paused_days: r.paused_days,
        acknowledge_by: acknowledge_by(r).map(|d| d.to_string()),
        self_service: r.source == RequestSource::SelfService,
        visitor: r.visitor.as_ref().map(|v| {
            format!(
                "recorded by device {} between {} and {}",
                v.device,
                when_opt(Some(v.from)),
                when_opt(Some(v.until))
            )
        }),
        created_by: r.created_by.clone(),
        completed: when_opt(r.completed_at),
    }
}

/// Overdue first (the most overdue on top), then open by deadline, then paused, then done,
/// newest first.
fn sort_key(r: &RightsRequest, today: Date) -> (u8, Date, std::cmp::Reverse<Option<Timestamp>>) {
    let (due, st) = status(r, today);
    let rank = match st {
        Status::Overdue => 0,
        Status::Open => 1,
        Status::AwaitingIdentity | Status::AwaitingClarification => 2,
        Status::Done => 3,
    };
    let due = if st == Status::Done { Date::MIN } else { due };
    (rank, due, std::cmp::Reverse(r.completed_at))
}

/// An option of the type select.
#[derive(Debug)]
struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The new-request form, as submitted (kept to show it again with an error).
#[derive(Debug, Default, Deserialize)]
pub(super) struct NewRequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    received: String,
}

#[derive(Template)]
#[template(path = "pages/console/requests.html")]
struct RequestsPage {
    page: PageContext,
    nav: ConsoleNav,
    rows: Vec<RequestRow>,
    can_manage: bool,
    kinds: Vec<KindOption>,
    subject: String,
    device: String,
    from: String,
    until: String,
    received: String,
    today: String,
}

/// `?done=…` after an action: which confirmation to show (never text from the query).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    fn message(&self) -> Option<&'static str> {
        match self.done.as_str() {
            "created" => {
                Some("The request was logged. Its deadline runs from the day it was received.")
            }
            "extended" => Some(
                "The deadline was extended by two months. Tell the person why, within the first month.",
            ),
            "completed" => Some("The request was completed and marked done."),
            "paused" => Some(
                "The request is paused: its deadline moves by every day it waits for the person's answer.",
            ),
            "resumed" => {
                Some("The request is open again; its deadline moved by the days it was paused.")
            }
            _ => None,
        }
    }
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    submitted: Option<&NewRequestForm>,
    flash: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let today = state.clock().today_uk();
    let mut all = state.store().requests().await?;
    all.sort_by_key(|r| sort_key(r, today));
    let mut page = staff.page(state).await?;
    if let Some(f) = flash {
        page = page.flash(f);
    }
    let status = match &error {
        Some((status, msg)) => {
            page = page.error(msg.clone());
            *status
        }
        None => StatusCode::OK,
    };
    let chosen = submitted.map_or("", |f| f.kind.as_str());
    render_status(
        status,
        &RequestsPage {
            page,
            nav: ConsoleNav::new(staff, Area::Requests),
            rows: all.iter().map(|r| row(r, today)).collect(),
            can_manage: staff.can(Area::ManageRequests),
            kinds: KINDS
                .iter()
                .map(|(k, _, long)| KindOption {
                    value: k.as_str(),
                    label: long,
                    selected: k.as_str() == chosen,
                })
                .collect(),
            subject: submitted.map(|f| f.subject.clone()).unwrap_or_default(),
            device: submitted.map(|f| f.device.clone()).unwrap_or_default(),
            from: submitted.map(|f| f.from.clone()).unwrap_or_default(),
            until: submitted.map(|f| f.until.clone()).unwrap_or_default(),
            received: submitted
                .map(|f| f.received.clone())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| today.to_string()),
            today: today.to_string(),
        },
    )
}

/// `GET /console/requests`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    done: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Requests)?;
    // A malformed query only loses the confirmation message.
    let done = done.map(|Query(d)| d).unwrap_or_default();
    list_page(&state, &staff, None, done.message(), None).await
}

/// When the request was received: today means now; an earlier day, its start in the UK.
fn received_at(received: &str, today: Date) -> ServiceResult<Option<Timestamp>> {
    let received = received.trim();
    if received.is_empty() {
        return Ok(None);
    }
    let date: Date = received.parse().map_err(|_| Invalid::ReceivedDate)?;
    if date > today {
        return Err(Invalid::ReceivedDateInFuture.into());
    }
    if date == today {
        return Ok(None);
    }
    privet_policy::uk_day_start(date)
        .map(Some)
        .ok_or_else(|| Invalid::ReceivedOutOfRange.into())
}

/// A UK wall-clock time from a `datetime-local` input.
fn uk_moment(s: &str) -> ServiceResult<Timestamp> {
    s.trim()
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(privet_policy::uk_time)
        .ok_or_else(|| Invalid::VisitorTime.into())
}

async fn log_request(state: &AppState, f: &NewRequestForm, actor: &str) -> ServiceResult<()> {
    let kind = RequestKind::parse(f.kind.trim()).ok_or(Invalid::ChooseRequestType)?;
    let subject = f.subject.trim();
    let device = f.device.trim();
    let about = match (subject.is_empty(), device.is_empty()) {
        (false, true) => About::Subject(SubjectId::new(subject)),
        (true, false) => About::Visitor(VisitorScope {
            device: device.to_owned(),
            from: uk_moment(&f.from)?,
            // The form gives whole minutes: "until 10:05" includes all of 10:05.
            until: uk_moment(&f.until)?
                .checked_add(jiff::SignedDuration::from_millis(59_999))
                .map_err(|_| Invalid::VisitorTime)?,
        }),
        (true, true) => return Err(Invalid::RequestSubject.into()),
        (false, false) => return Err(Invalid::SubjectOrVisitor.into()),
    };
    let received = received_at(&f.received, state.clock().today_uk())?;
    requests::create(state, kind, about, received, actor).await?;
    Ok(())
}

/// `POST /console/requests`: logs a request.
pub(super) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    submitted: Result<Form<NewRequestForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    match log_request(&state, &f, &permit.actor).await {
        Ok(()) => Ok(Redirect::to("/console/requests?done=created").into_response()),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            list_page(&state, &staff, Some(&f), None, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "pages/console/request.html")]
struct RequestPage {
    page: PageContext,
    nav: ConsoleNav,
    r: RequestRow,
    can_manage: bool,
    can_extend: bool,
    kind: &'static str,
    visitor_device: Option<String>,
}

pub(super) async fn detail_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    flash: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let r = state.store().request(id).await?;
    let mut page = staff.page(state).await?;
    if let Some(f) = flash {
        page = page.flash(f);
    }
    let status = match &error {
        Some((status, msg)) => {
            page = page.error(msg.clone());
            *status
        }
        None => StatusCode::OK,
    };
    render_status(
        status,
        &RequestPage {
            page,
            nav: ConsoleNav::new(staff, Area::Requests),
            can_manage: staff.can(Area::ManageRequests) && !r.done,
            can_extend: r.extended_due.is_none(),
            kind: r.kind.as_str(),
            visitor_device: r.visitor.as_ref().map(|v| v.device.clone()),
            r: row(&r, state.clock().today_uk()),
        },
    )
}

/// `GET /console/requests/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    done: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Requests)?;
    // A malformed query only loses the confirmation message.
    let done = done.map(|Query(d)| d).unwrap_or_default();
    detail_page(&state, &staff, &id, done.message(), None).await
}

/// The extension form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ExtendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/requests/{id}/extend`: extends the deadline once, by two months.
pub(super) async fn extend(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<ExtendForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let done = requests::extend(&state, &id, &f.reason, &permit.actor).await;
    answer(&state, &staff, &id, done.map(|_| ()), "extended").await
}

/// The pause form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PauseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/requests/{id}/pause`: stops the clock while waiting for the person.
pub(super) async fn pause(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<PauseForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let done = requests::pause(&state, &id, &f.reason, &permit.actor).await;
    answer(&state, &staff, &id, done.map(|_| ()), "paused").await
}

/// The resume form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResumeForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/requests/{id}/resume`: restarts the clock once the person answered.
pub(super) async fn resume(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<ResumeForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let done = requests::resume(&state, &id, &permit.actor).await;
    answer(&state, &staff, &id, done.map(|_| ()), "resumed").await
}

/// After an action on one request: back to its page with the confirmation `done`, or the page
/// again with the error.
async fn answer(
    state: &AppState,
    staff: &Staff,
    id: &str,
    outcome: ServiceResult<()>,
    done: &str,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!(
            "/console/requests/{}?done={done}",
            crate::pages::urlencode(id)
        ))
        .into_response()),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            detail_page(state, staff, id, None, Some(error)).await
        }
    }
}
