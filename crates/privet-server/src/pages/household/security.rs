//! `/account/security`: password, two-step verification, active sessions, recent security
//! events, and the household's devices' update status.

use super::auth::{PASSWORD_HINT, wait_words};
use super::form::PageForm;
use super::updates::{self, UpdateRow};
use super::{Done, FieldErrors, message_of, see_other, view};
use crate::client_cookie;
use crate::pages::{PageContext, PageError, PageSession, render, render_status};
use crate::service::accounts;
use crate::service::error::{Invalid, ServiceError};
use crate::session::SignedIn;
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use privet_store::AccountKind;

struct SessionRow {
    client: String,
    created: String,
    last_seen: String,
    current: bool,
}

struct EventRow {
    when: String,
    what: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "pages/household/security.html")]
pub(crate) struct SecurityPage {
    page: PageContext,
    two_step: bool,
    staff: bool,
    recovery_left: u64,
    sessions: Vec<SessionRow>,
    events: Vec<EventRow>,
    devices: Option<Vec<UpdateRow>>,
    errors: FieldErrors,
    password_hint: &'static str,
}

/// Security events shown.
const EVENTS: usize = 50;

fn event_detail(action: &str, detail: &serde_json::Value) -> String {
    let n = |k: &str| detail[k].as_u64().unwrap_or(0);
    match action {
        "auth.login" => detail["client"].as_str().unwrap_or("").to_owned(),
        "auth.login_failed" => format!("Wrong {}", detail["reason"].as_str().unwrap_or("details")),
        "auth.recovery_code_used" => format!("{} recovery codes left", n("codes_left")),
        "auth.signed_out_elsewhere" => format!("{} sessions", n("sessions")),
        "auth.password_changed" => {
            format!(
                "{} other sessions signed out",
                n("other_sessions_signed_out")
            )
        }
        _ => String::new(),
    }
}

/// Everything the page shows, with `errors` on the form that failed.
pub(crate) async fn build(
    state: &AppState,
    signed: &SignedIn,
    errors: FieldErrors,
) -> Result<SecurityPage, PageError> {
    let sessions = accounts::sessions(state, signed)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == signed.session.id,
            client: s.client,
            created: view::when(s.created_at),
            last_seen: view::when(s.last_seen),
        })
        .collect();
    let events = state
        .store()
        .audit_by_actor(&signed.actor(), EVENTS)
        .await?
        .into_iter()
        .filter(|e| e.entry.action.starts_with("auth.") || e.entry.action.starts_with("household."))
        .map(|e| EventRow {
            when: view::when(e.entry.at),
            what: view::action(&e.entry.action),
            detail: event_detail(&e.entry.action, &e.entry.detail),
        })
        .collect();
    let devices = match &signed.account.household {
        Some(h) => Some(updates::rows(state, signed, h).await?),
        None => None,
    };
    let recovery_left = if signed.account.totp_enabled {
        state
            .store()
            .recovery_codes_left(&signed.account.id)
            .await?
    } else {
        0
    };
    let mut page = PageContext::new(state, Some(signed)).await?;
    page.error = errors.summary();
    Ok(SecurityPage {
        page,
        two_step: signed.account.totp_enabled,
        staff: signed.account.kind == AccountKind::Staff,
        recovery_left,
        sessions,
        events,
        devices,
        errors,
        password_hint: PASSWORD_HINT,
    })
}

/// The Security page.
pub(crate) async fn page(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    let mut view = build(&state, &signed, FieldErrors::default()).await?;
    view.page.flash = Done::from(q).flash();
    render(&view)
}

/// Re-renders the page with an error on one field.
pub(crate) async fn with_error(
    state: &AppState,
    signed: &SignedIn,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let view = build(state, signed, errors).await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

/// Re-renders the page with a password re-entry's failure on `field` (a wrong or missing
/// password: 422; too many of them: 429 with the wait in words); any other error as it is.
pub(crate) async fn password_error(
    state: &AppState,
    signed: &SignedIn,
    field: &'static str,
    e: ServiceError,
) -> Result<Response, PageError> {
    let (status, message) = match &e {
        ServiceError::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong passwords. Wait {} and try again.",
                wait_words(*retry_after)
            ),
        ),
        ServiceError::Invalid(Invalid::WrongCurrentPassword | Invalid::PasswordNeeded) => {
            (StatusCode::UNPROCESSABLE_ENTITY, message_of(&e))
        }
        _ => return Err(e.into()),
    };
    let view = build(state, signed, FieldErrors::one(field, message)).await?;
    render_status(status, &view)
}

/// Changes the password (the policy's message on rejection); other sessions are signed out.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    mut form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let current = form.take("current");
    let new = form.take("new");
    match accounts::change_password(&state, &signed, current, new).await {
        Ok(changed) => {
            let to = format!("/account/security?done=password&n={}", changed.signed_out);
            let mut resp = see_other(&to);
            client_cookie::remember(&state, &changed.account, &mut resp);
            Ok(resp)
        }
        Err(
            e @ (ServiceError::RateLimited { .. }
            | ServiceError::Invalid(Invalid::WrongCurrentPassword | Invalid::PasswordNeeded)),
        ) => password_error(&state, &signed, "current", e).await,
        Err(e @ ServiceError::Invalid(_)) => {
            with_error(&state, &signed, FieldErrors::one("new", message_of(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out every other session.
pub(crate) async fn sign_out_others(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let n = accounts::sign_out_elsewhere(&state, &signed).await?;
    Ok(see_other(&format!(
        "/account/security?done=signed-out-others&n={n}"
    )))
}
