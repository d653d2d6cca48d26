//! `POST /console/requests/{id}/complete`: completes a request by running what self-service
//! runs, as `POST /v1/requests/{id}/complete` does: access and portability are answered with
//! the export (downloaded first, then marked done), erasure with the signed receipt;
//! restriction, objection and rectification are applied.

use super::requests::detail_page;
use super::staff::{Area, ConsoleNav, Staff};
use super::{form, message_of, status_of, when};
use crate::error::{ApiError, ApiResult};
use crate::pages::{PageContext, PageError, render};
use crate::routes::subjects::{Rectification, rectify, restrict};
use crate::service::audit;
use crate::service::erasure::{self, Receipt};
use crate::service::requests;
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use privet_store::{RequestKind, RightsRequest, SubjectId};
use serde::Deserialize;

/// The completion form: what the kind of request needs.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CompleteForm {
    #[serde(default)]
    csrf: String,
    /// Erasure: `yes` once the operator has confirmed.
    #[serde(default)]
    confirm: String,
    /// Objection: purposes objected to (empty: every legitimate-interests purpose).
    #[serde(default)]
    purposes: String,
    /// Rectification: the corrected name.
    #[serde(default)]
    name: String,
    /// Rectification: the corrected e-mail.
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "pages/console/receipt.html")]
struct ReceiptPage {
    page: PageContext,
    nav: ConsoleNav,
    request: String,
    receipt: Receipt,
    erased_at: String,
}

/// Whether `actor` exported the subject's data since `since`: an access or portability request
/// is answered by sending the export, so it is marked done only after the staff member
/// completing it downloaded one (the person's own download from My data does not count).
async fn exported_since(
    state: &AppState,
    subject: &SubjectId,
    since: Timestamp,
    actor: &str,
) -> ApiResult<bool> {
    let s = state.store().subject(subject).await?;
    Ok(state
        .store()
        .audit_for(&s.pseudonym)
        .await?
        .iter()
        .any(|e| {
            e.entry.action == "subject.export" && e.entry.at >= since && e.entry.actor == actor
        }))
}

/// Runs what completes `r`; an erasure answers with its receipt.
async fn run_completion(
    state: &AppState,
    r: &RightsRequest,
    f: &CompleteForm,
    actor: &str,
) -> ApiResult<Option<Receipt>> {
    let subject = &r.subject;
    let receipt = match r.kind {
        RequestKind::Access | RequestKind::Portability => {
            if !exported_since(state, subject, r.received_at, actor).await? {
                return Err(ApiError::Conflict(
                    "download the subject's export and send it to them first; then mark the request done".to_owned(),
                ));
            }
            None
        }
        RequestKind::Erasure => {
            if f.confirm != "yes" {
                return Err(ApiError::Unprocessable(
                    "tick the box to confirm the erasure: it cannot be undone".to_owned(),
                ));
            }
            Some(erasure::erase(state, subject, actor).await?)
        }
        RequestKind::Restriction => {
            restrict(state, subject, true, actor).await?;
            None
        }
        RequestKind::Objection => {
            let purposes: Vec<String> = f
                .purposes
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            requests::object(state, subject, &purposes, actor).await?;
            None
        }
        RequestKind::Rectification => {
            let given = |s: &str| {
                let s = s.trim();
                (!s.is_empty()).then(|| s.to_owned())
            };
            rectify(
                state,
                subject,
                Rectification {
                    name: given(&f.name),
                    email: given(&f.email),
                },
                actor,
            )
            .await?;
            None
        }
    };
    requests::mark_done(state, r.clone()).await?;
    audit::record(
        state,
        actor,
        "request.complete",
        None,
        Vec::new(),
        0,
        serde_json::json!({"request": r.id}),
    )
    .await?;
    Ok(receipt)
}

/// `POST /console/requests/{id}/complete`.
pub(super) async fn complete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<CompleteForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::ManageRequests)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    let outcome = async {
        let r = requests::open_request(&state, &id).await?;
        run_completion(&state, &r, &f, &permit.actor).await
    }
    .await;
    match outcome {
        Ok(Some(receipt)) => render(&ReceiptPage {
            page: staff
                .page(&state)
                .await?
                .flash("The data was erased and the request marked done."),
            nav: ConsoleNav::new(&staff, Area::Requests),
            request: id,
            erased_at: when(receipt.erased_at),
            receipt,
        }),
        Ok(None) => Ok(Redirect::to(&format!(
            "/console/requests/{}?done=completed",
            crate::pages::urlencode(&id)
        ))
        .into_response()),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            detail_page(&state, &staff, &id, None, Some(error)).await
        }
    }
}
