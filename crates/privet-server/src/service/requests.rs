//! Rights requests that arrive by e-mail or phone: logged with their deadline, extended once,
//! completed by running the same code as self-service.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::service::purge;
use crate::service::subjects::household_of;
use crate::state::AppState;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_policy::{due_date, extended_due_date, is_overdue, utc_date};
use privet_store::{Objection, RequestKind, RightsRequest, SubjectId};
use serde::Serialize;
use utoipa::ToSchema;

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not yet answered, within its deadline.
    Open,
    /// Not yet answered, past its deadline.
    Overdue,
    /// Answered.
    Done,
}

impl Status {
    /// Parses a query value.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "overdue" => Some(Status::Overdue),
            "done" => Some(Status::Done),
            _ => None,
        }
    }
}

/// The deadline in force and the status on `today`.
pub fn status(r: &RightsRequest, today: Date) -> (Date, Status) {
    let due = r.extended_due.unwrap_or(r.due);
    let status = if r.done {
        Status::Done
    } else if is_overdue(due, today) {
        Status::Overdue
    } else {
        Status::Open
    };
    (due, status)
}

/// Logs a request received at `received_at` (now when absent); the subject must exist.
pub async fn create(
    state: &AppState,
    kind: RequestKind,
    subject: &SubjectId,
    received_at: Option<Timestamp>,
    actor: &str,
) -> ApiResult<RightsRequest> {
    state.store().subject(subject).await?;
    let now = Timestamp::now();
    let received_at = received_at.unwrap_or(now);
    if received_at > now {
        return Err(ApiError::Unprocessable(
            "`received_at` is in the future".to_owned(),
        ));
    }
    let r = RightsRequest {
        id: new_id("rq"),
        kind,
        subject: subject.clone(),
        received_at,
        due: due_date(utc_date(received_at)),
        extended_due: None,
        extension_reason: None,
        done: false,
        completed_at: None,
        created_by: actor.to_owned(),
        created_at: now,
    };
    state.store().create_request(r.clone()).await?;
    Ok(r)
}

/// Extends a request once, by two further months, for a stated reason.
pub async fn extend(state: &AppState, id: &str, reason: &str) -> ApiResult<RightsRequest> {
    let mut r = state.store().request(id).await?;
    if r.done {
        return Err(ApiError::Conflict("the request is already done".to_owned()));
    }
    if r.extended_due.is_some() {
        return Err(ApiError::Conflict(
            "a request can be extended only once".to_owned(),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::Unprocessable(
            "give the reason for the extension (at most 500 characters); you must tell the person within the first month".to_owned(),
        ));
    }
    r.extended_due = Some(extended_due_date(utc_date(r.received_at)));
    r.extension_reason = Some(reason.to_owned());
    state.store().update_request(r.clone()).await?;
    Ok(r)
}

/// Marks a request done.
pub async fn mark_done(state: &AppState, mut r: RightsRequest) -> ApiResult<RightsRequest> {
    r.done = true;
    r.completed_at = Some(Timestamp::now());
    state.store().update_request(r.clone()).await?;
    Ok(r)
}

/// The open request with this id, for completion.
pub async fn open_request(state: &AppState, id: &str) -> ApiResult<RightsRequest> {
    let r = state.store().request(id).await?;
    if r.done {
        return Err(ApiError::Conflict("the request is already done".to_owned()));
    }
    Ok(r)
}

/// Records objections to every legitimate-interests (or public task) purpose of the products
/// of the subject's household — or to the purposes named — and purges what they justified.
pub async fn object(
    state: &AppState,
    subject: &SubjectId,
    purposes: &[String],
    actor: &str,
) -> ApiResult<Vec<String>> {
    let s = state.store().subject(subject).await?;
    let household = household_of(&s);
    let mut products: Vec<String> = state
        .store()
        .devices_of(&household)
        .await?
        .into_iter()
        .map(|d| d.product)
        .collect();
    products.sort();
    products.dedup();
    let mut objected = Vec::new();
    for product in products {
        let Some(m) = state.products().get(&product) else {
            continue;
        };
        for p in m.purposes.iter().filter(|p| p.is_objectable()) {
            if !purposes.is_empty() && !purposes.iter().any(|x| x == p.id.as_str()) {
                continue;
            }
            state
                .store()
                .record_objection(Objection {
                    subject: s.id.clone(),
                    product: Some(product.clone()),
                    purpose: p.id.to_string(),
                    at: Timestamp::now(),
                    actor: actor.to_owned(),
                })
                .await?;
            purge::unjustified(state, &s, p.id.as_str()).await?;
            objected.push(format!("{product}/{}", p.id.as_str()));
        }
    }
    if objected.is_empty() && !purposes.is_empty() {
        return Err(ApiError::Unprocessable(
            "none of those purposes can be objected to: only legitimate-interests and public-task purposes can".to_owned(),
        ));
    }
    Ok(objected)
}
