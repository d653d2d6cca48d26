//! Deleting data: a confirmation page that says exactly what goes, the erasure itself
//! (`service::erasure::erase`), the signed receipt, and the receipt as a download.

use super::form::PageForm;
use super::{FieldErrors, attachment, member_of, view, with_session_cookie};
use crate::access::{Caller, SubjectCap, authorize_subject};
use crate::pages::{PageContext, PageError, PageSession, render, render_status};
use crate::service::error::{Invalid, ServiceError};
use crate::service::{erasure, requests, subjects};
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use privet_policy::SubjectAction;
use privet_store::{RequestKind, SubjectId, SubjectKind};
use serde::Deserialize;

/// `?subject=…`: whose data; the reader's own when absent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Whose {
    subject: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/household/delete.html")]
struct ConfirmPage {
    page: PageContext,
    subject: String,
    heading: String,
    household: bool,
    own: bool,
    owner: bool,
    name: String,
    people: Vec<String>,
    records: u64,
    devices: usize,
    errors: FieldErrors,
    json: String,
    csv: String,
}

#[derive(Template)]
#[template(path = "pages/household/receipt.html")]
struct ReceiptPage {
    page: PageContext,
    heading: String,
    erased_at: String,
    /// When copies of the keys in older backups stop opening, if that date is still ahead.
    older_copies: Option<String>,
    receipt: erasure::Receipt,
    signed_out: bool,
}

/// What the confirmation page needs to say.
async fn confirm_view(
    state: &AppState,
    signed: &crate::session::SignedIn,
    cap: &SubjectCap,
    errors: FieldErrors,
) -> Result<ConfirmPage, PageError> {
    let subject = &cap.subject;
    let name = subjects::profile(state, subject).await?.name;
    let household = subject.kind == SubjectKind::Household;
    let (_, mut records) = state
        .store()
        .subject_record_counts(&subject.pseudonym)
        .await?;
    let mut people = Vec::new();
    let mut devices = 0;
    if household {
        for m in state.store().members(&subject.id).await? {
            records += state.store().subject_record_counts(&m.pseudonym).await?.1;
            people.push(subjects::profile(state, &m).await?.name);
        }
        devices = state.store().devices_of(&subject.id).await?.len();
    }
    let own = signed.account.member.as_ref() == Some(&subject.id);
    let heading = match (household, own) {
        (true, _) => format!("Delete the household {name}"),
        (false, true) => "Delete my data".to_owned(),
        (false, false) => format!("Delete {name}'s data"),
    };
    let mut page = PageContext::new(state, Some(signed)).await?;
    page.error = errors.summary();
    Ok(ConfirmPage {
        page,
        subject: subject.id.to_string(),
        heading,
        household,
        own,
        owner: signed.account.owner,
        name,
        people,
        records,
        devices,
        errors,
        json: format!("/v1/subjects/{}/export?format=json", subject.id),
        csv: format!("/v1/subjects/{}/export?format=csv", subject.id),
    })
}

fn target(signed: &crate::session::SignedIn, asked: &str) -> Result<SubjectId, PageError> {
    let (_, member) = member_of(signed)?;
    Ok(if asked.is_empty() {
        member
    } else {
        SubjectId::new(asked.to_owned())
    })
}

/// The confirmation step.
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Whose>, QueryRejection>,
) -> Result<Response, PageError> {
    let asked = q.map(|Query(w)| w).unwrap_or_default().subject;
    let id = target(&signed, asked.as_deref().unwrap_or(""))?;
    let caller = Caller::Account(Box::new(signed.clone()));
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Manage).await?;
    render(&confirm_view(&state, &signed, &cap, FieldErrors::default()).await?)
}

/// Erases after the confirmation, and shows the signed receipt.
pub(crate) async fn erase(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let id = target(&signed, form.get("subject"))?;
    let caller = Caller::Account(Box::new(signed.clone()));
    let cap = authorize_subject(&state, &caller, &id, SubjectAction::Manage).await?;
    let household = cap.subject.kind == SubjectKind::Household;
    let errors = if household {
        let name = subjects::profile(&state, &cap.subject).await?.name;
        if form.get("confirm_name").trim() == name.trim() {
            None
        } else {
            Some(FieldErrors::one(
                "confirm_name",
                format!("Type the household's name, {name}, exactly as shown to confirm."),
            ))
        }
    } else if form.checked("confirm") {
        None
    } else {
        Some(FieldErrors::one(
            "confirm",
            "Tick the box to confirm that you understand this cannot be undone.",
        ))
    };
    if let Some(errors) = errors {
        let view = confirm_view(&state, &signed, &cap, errors).await?;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let name = subjects::profile(&state, &cap.subject).await?.name;
    let own = signed.account.member.as_ref() == Some(&cap.subject.id);
    let receipt = erasure::erase(&state, &cap.subject.id, &cap.actor).await?;
    requests::note_self_service(&state, &cap, RequestKind::Erasure).await;
    // Erasing yourself or your household deletes your account with you: the session is gone.
    let signed_out = own || (household && signed.account.household.as_ref() == Some(&id));
    let page = if signed_out {
        PageContext::default()
    } else {
        PageContext::new(&state, Some(&signed)).await?
    };
    let heading = match (household, own) {
        (true, _) => format!("The household {name} is deleted"),
        (false, true) => "Your data is deleted".to_owned(),
        (false, false) => format!("{name}'s data is deleted"),
    };
    let resp = render(&ReceiptPage {
        page,
        heading,
        erased_at: view::when(receipt.erased_at),
        older_copies: receipt.older_copies_unreadable_by.map(view::when),
        receipt,
        signed_out,
    })?;
    Ok(if signed_out {
        with_session_cookie(&state, resp, None)
    } else {
        resp
    })
}

/// Only the characters safe in a file name.
fn file_safe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect()
}

/// Sends a receipt back as a file, but only one this instance signed (so the route cannot be
/// used to serve arbitrary content from this origin). Needs no session: erasing yourself
/// ends yours.
pub(crate) async fn download_receipt(
    State(state): State<AppState>,
    form: PageForm,
) -> Result<Response, PageError> {
    let jws = form.get("jws").trim();
    let claims = privet_crypto::verify_jws(state.signing().verifying_key(), jws)
        .ok()
        .ok_or(ServiceError::Invalid(Invalid::NotAReceipt))?;
    // An erasure's receipt, or a device reset's: nothing else this service signs is offered
    // as a receipt file.
    let typ = match claims["typ"].as_str() {
        Some(t @ ("privet-erasure-receipt" | "privet-reset-receipt")) => t,
        _ => return Err(ServiceError::Invalid(Invalid::NotAReceipt).into()),
    };
    let id = file_safe(claims["jti"].as_str().unwrap_or("receipt"));
    Ok(attachment(
        jws.to_owned().into_response(),
        "application/jose",
        &format!("{typ}-{id}.jws"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_safe("rcpt_ab-12\"/../x"), "rcpt_ab-12x");
    }
}
