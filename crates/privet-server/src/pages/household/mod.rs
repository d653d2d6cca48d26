//! The household's pages: sign-up and sign-in, device set-up, my data, security, household
//! management, and the public product pages.
//!
//! Pages hold no privacy rule of their own: every change goes through the services
//! (`service::accounts`, `service::consent`, `service::erasure`, `service::devices`) and every
//! subject a page touches is authorised with [`crate::access::authorize_subject`].

mod auth;
mod choices;
mod erase;
mod form;
mod media;
mod media_download;
mod members;
mod my_data;
mod objection;
mod permission_form;
mod products;
mod records;
mod security;
mod setup;
mod start;
mod two_step;
mod updates;
mod versions;
mod view;

use crate::pages::PageError;
use crate::service::error::{Forbidden, ServiceError};
use crate::session::SignedIn;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use privet_store::SubjectId;
use serde::Deserialize;

/// The household pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(start::page))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/invite/{code}",
            get(auth::invite_page).post(auth::accept_invite),
        )
        .route("/setup", get(setup::page).post(setup::preview))
        .route("/setup/confirm", post(setup::confirm))
        .route("/my-data", get(my_data::page))
        .route("/my-data/permissions", post(choices::save))
        .route(
            "/my-data/object",
            get(objection::confirm_page).post(objection::object),
        )
        .route("/my-data/media", get(media_download::download))
        .route(
            "/my-data/delete",
            get(erase::confirm_page).post(erase::erase),
        )
        .route("/my-data/receipt.jws", post(erase::download_receipt))
        .route("/account/security", get(security::page))
        .route("/account/password", post(security::change_password))
        .route(
            "/account/sessions/sign-out-others",
            post(security::sign_out_others),
        )
        .route("/account/two-step", post(two_step::begin))
        .route("/account/two-step/confirm", post(two_step::confirm))
        .route("/account/two-step/off", post(two_step::turn_off))
        .route("/household", get(members::page))
        .route("/household/invite", post(members::invite))
        .route(
            "/household/members/{id}/sign-in",
            post(members::child_sign_in),
        )
        .route(
            "/household/devices/{id}/reset",
            get(members::reset_page).post(members::reset),
        )
        .route("/products", get(products::list))
        .route("/products/compare", get(products::compare))
        .route("/products/{id}", get(products::detail))
        .route("/products/{id}/versions", get(versions::list))
        .route("/products/{id}/versions/{version}", get(versions::show))
}

/// `?done=…&n=…` after a Post/Redirect/Get: which confirmation to show.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    /// A key from [`flash_for`].
    pub(crate) done: Option<String>,
    /// A count some confirmations mention.
    pub(crate) n: Option<u64>,
}

impl Done {
    /// The query, or nothing when it does not parse.
    pub(crate) fn from(
        q: Result<axum::extract::Query<Done>, axum::extract::rejection::QueryRejection>,
    ) -> Done {
        q.map(|axum::extract::Query(d)| d).unwrap_or_default()
    }

    /// The confirmation to show, if the key is known (unknown keys show nothing, so a link
    /// cannot put words in the page's mouth).
    pub(crate) fn flash(&self) -> Option<String> {
        flash_for(self.done.as_deref()?, self.n.unwrap_or(0))
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The fixed confirmations pages show after a change.
fn flash_for(key: &str, n: u64) -> Option<String> {
    Some(match key {
        "signed-out" => "You are signed out.".to_owned(),
        "signup" => "Welcome to Privet. Your account and household are ready: next, set up a device."
            .to_owned(),
        "joined" => "Welcome to Privet. You have joined your household.".to_owned(),
        "device" => "Your device is set up. Beyond what it needs to work, it collects only what you switched on."
            .to_owned(),
        "permissions" if n > 0 => format!(
            "Your choices are saved. What you switched off stops at once, and {} held only for it {} deleted.",
            plural(n, "stored value", "stored values"),
            if n == 1 { "was" } else { "were" }
        ),
        "permissions" => "Your choices are saved. Anything you switched off stops at once.".to_owned(),
        "objected" if n > 0 => format!(
            "Your objection is recorded. That use stopped at once, and {} held only for it {} deleted.",
            plural(n, "stored value", "stored values"),
            if n == 1 { "was" } else { "were" }
        ),
        "objected" => "Your objection is recorded. That use stopped at once.".to_owned(),
        "password" => format!(
            "Your password is changed. {} signed out.",
            plural(n, "other session was", "other sessions were")
        ),
        "signed-out-others" => format!(
            "You are signed out everywhere else ({}).",
            plural(n, "session", "sessions")
        ),
        "two-step-off" => "Two-step verification is off.".to_owned(),
        "child-added" => "They are added. You choose for them and manage their data.".to_owned(),
        "sign-in-allowed" => "They can sign in now.".to_owned(),
        "sign-in-stopped" => "They can no longer sign in, and were signed out.".to_owned(),
        _ => return None,
    })
}

/// A 303 redirect (the browser follows it with GET).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Adds a `Set-Cookie` header (a new session, or clearing it with `None`).
pub(crate) fn with_session_cookie(
    state: &AppState,
    mut resp: Response,
    token: Option<&str>,
) -> Response {
    if let Some(c) = crate::session::cookie(token, state.config().cookie_secure()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// Marks a response as a download with `filename`.
pub(crate) fn attachment(
    mut resp: Response,
    content_type: &'static str,
    filename: &str,
) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The household and member of a signed-in member account; staff have neither.
pub(crate) fn member_of(signed: &SignedIn) -> Result<(SubjectId, SubjectId), PageError> {
    match (&signed.account.household, &signed.account.member) {
        (Some(h), Some(m)) => Ok((h.clone(), m.clone())),
        _ => Err(ServiceError::from(Forbidden::NotAMember).into()),
    }
}

/// Errors of a form, each tied to the field it is about.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// One error on one field.
    pub(crate) fn one(field: &'static str, message: impl Into<String>) -> FieldErrors {
        FieldErrors(vec![(field, message.into())])
    }

    /// The error on `field`, if any.
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The first error, for the summary at the top of the page.
    pub(crate) fn summary(&self) -> Option<String> {
        self.0
            .first()
            .map(|(_, m)| format!("There is a problem: {m}"))
    }
}

/// The message of a service's error, as a form shows it.
pub(crate) fn message_of(e: &ServiceError) -> String {
    let text = crate::error::service_detail(e).replace('`', "");
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut s: String = first.to_uppercase().collect();
    s.push_str(chars.as_str());
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_confirmations_are_shown() {
        let d = Done {
            done: Some("<script>".to_owned()),
            n: None,
        };
        assert_eq!(d.flash(), None);
        let d = Done {
            done: Some("permissions".to_owned()),
            n: Some(3),
        };
        assert!(
            d.flash()
                .is_some_and(|f| f.contains("3 stored values held only for it were deleted"))
        );
    }

    #[test]
    fn api_messages_read_as_sentences() {
        let e = ServiceError::from(privet_policy::ProfileProblem::BadEmail);
        assert_eq!(message_of(&e), "Email is not an e-mail address.");
    }
}
