//! Creating an account, signing in and out, and joining a household by invitation.

use super::form::PageForm;
use super::{FieldErrors, message_of, see_other, with_session_cookie};
use crate::client_cookie;
use crate::pages::{
    MaybeSignedIn, PageContext, PageError, PageSession, render, render_status, safe_next, urlencode,
};
use crate::service::accounts;
use crate::service::error::{Invalid, Missing, ServiceError};
use crate::service::sign_in::{self, Attempt};
use crate::session::{self, ClientIp};
use crate::state::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use privet_policy::ProfileProblem;
use privet_store::{Account, AccountKind};
use serde::Deserialize;

/// Shown under every new-password field.
pub(crate) const PASSWORD_HINT: &str = "At least 10 characters and hard to guess. Three or four unrelated words work well. Any characters, spaces included.";

#[derive(Template)]
#[template(path = "pages/household/signup.html")]
struct SignupPage {
    page: PageContext,
    name: String,
    email: String,
    household_name: String,
    errors: FieldErrors,
    password_hint: &'static str,
}

#[derive(Template)]
#[template(path = "pages/household/login.html")]
struct LoginPage {
    page: PageContext,
    email: String,
    next: String,
    /// Always empty: a failed sign-in gets one message for the whole form.
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "pages/household/invite.html")]
struct InvitePage {
    page: PageContext,
    action: String,
    email: String,
    errors: FieldErrors,
    password_hint: &'static str,
}

/// Where a sign-in goes back to.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

fn home_of(account: &Account) -> &'static str {
    match account.kind {
        AccountKind::Staff => "/console",
        AccountKind::Member => "/my-data",
    }
}

/// Starts a session for `account` and sends the browser to `to` with the new cookie, and a
/// new known-client token so this browser keeps its own sign-in allowance.
async fn signed_in(
    state: &AppState,
    account: &Account,
    headers: &HeaderMap,
    to: &str,
) -> Result<Response, PageError> {
    let token = accounts::start_session(state, account, &session::client_label(headers)).await?;
    let mut resp = with_session_cookie(state, see_other(to), Some(token.expose()));
    client_cookie::remember(state, account, &mut resp);
    Ok(resp)
}

/// The sign-up form.
pub(crate) async fn signup_page(
    State(_state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
) -> Result<Response, PageError> {
    if let Some(s) = signed {
        return Ok(see_other(home_of(&s.account)));
    }
    render(&SignupPage {
        page: PageContext::default(),
        name: String::new(),
        email: String::new(),
        household_name: String::new(),
        errors: FieldErrors::default(),
        password_hint: PASSWORD_HINT,
    })
}

/// "Wait 40 seconds", "wait 3 minutes".
pub(crate) fn wait_words(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_owned(),
        2..=119 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// Which field of the sign-up form an error is about.
fn signup_error(e: &ServiceError, household_name: &str) -> Option<FieldErrors> {
    Some(match e {
        ServiceError::Conflict(_) => FieldErrors::one(
            "email",
            "An account with this e-mail address already exists. Sign in instead.",
        ),
        ServiceError::Invalid(Invalid::Profile(ProfileProblem::BadEmail)) => {
            FieldErrors::one("email", "Enter an e-mail address, like name@example.com.")
        }
        ServiceError::Invalid(Invalid::Profile(_)) => {
            let field = if privet_policy::check_name(household_name).is_err() {
                "household_name"
            } else {
                "name"
            };
            FieldErrors::one(field, "Enter a name of at most 200 printable characters.")
        }
        ServiceError::Invalid(Invalid::Password(_)) => FieldErrors::one("password", message_of(e)),
        ServiceError::RateLimited { retry_after } => FieldErrors::one(
            "email",
            format!(
                "Too many accounts were created from here just now. Wait {} and try again.",
                wait_words(*retry_after)
            ),
        ),
        _ => return None,
    })
}

/// Creates the account, its household and owner member, and signs in.
pub(crate) async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut form: PageForm,
) -> Result<Response, PageError> {
    let password = form.take("password");
    let name = form.get("name").trim().to_owned();
    let email = form.get("email").trim().to_owned();
    let household_name = form.get("household_name").trim().to_owned();
    let outcome = accounts::signup(
        &state,
        &email,
        password,
        &household_name,
        Some(&name).filter(|n| !n.is_empty()).map(String::as_str),
        ip,
    )
    .await;
    match outcome {
        Ok(account) => signed_in(&state, &account, &headers, "/my-data?done=signup").await,
        Err(e) => {
            let Some(errors) = signup_error(&e, &household_name) else {
                return Err(e.into());
            };
            let page = PageContext {
                error: errors.summary(),
                ..PageContext::default()
            };
            let status = match e {
                ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            render_status(
                status,
                &SignupPage {
                    page,
                    name,
                    email,
                    household_name,
                    errors,
                    password_hint: PASSWORD_HINT,
                },
            )
        }
    }
}

/// The sign-in form.
pub(crate) async fn login_page(
    State(_state): State<AppState>,
    MaybeSignedIn(signed): MaybeSignedIn,
    q: Result<Query<Next>, QueryRejection>,
) -> Result<Response, PageError> {
    let next = q
        .map(|Query(n)| n)
        .unwrap_or_default()
        .next
        .unwrap_or_default();
    if let Some(s) = signed {
        let to = if next.is_empty() {
            home_of(&s.account)
        } else {
            safe_next(&next)
        };
        return Ok(see_other(to));
    }
    render(&LoginPage {
        page: PageContext::default(),
        email: String::new(),
        next: safe_next(&next).to_owned(),
        errors: FieldErrors::default(),
    })
}

/// Signs in: one generic message for every failure; the wait time when throttled.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut form: PageForm,
) -> Result<Response, PageError> {
    let password = form.take("password");
    let email = form.get("email").trim().to_owned();
    let next = form.get("next").to_owned();
    let code = form.take("code");
    let known_client = client_cookie::presented(&headers);
    let from = Attempt {
        ip,
        known_client: known_client.as_deref(),
    };
    match sign_in::login(&state, &email, password, Some(&code), from).await {
        Ok(account) => {
            let to = if next.is_empty() || next == "/" {
                home_of(&account)
            } else {
                safe_next(&next)
            };
            signed_in(&state, &account, &headers, to).await
        }
        Err(e @ (ServiceError::SignInFailed | ServiceError::RateLimited { .. })) => {
            let (status, message) = match e {
                ServiceError::RateLimited { retry_after } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Too many sign-in attempts. Wait {} and try again.",
                        wait_words(retry_after)
                    ),
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    "The e-mail, password or two-step code is not right. Check them and try again."
                        .to_owned(),
                ),
            };
            render_status(
                status,
                &LoginPage {
                    page: PageContext::default().error(message),
                    email,
                    next: safe_next(&next).to_owned(),
                    errors: FieldErrors::default(),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out of this session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    accounts::logout(&state, &signed).await?;
    Ok(with_session_cookie(
        &state,
        see_other("/?done=signed-out"),
        None,
    ))
}

/// The form to accept an invitation.
pub(crate) async fn invite_page(
    State(_state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    render(&InvitePage {
        page: PageContext::default(),
        action: format!("/invite/{}", urlencode(&code)),
        email: String::new(),
        errors: FieldErrors::default(),
        password_hint: PASSWORD_HINT,
    })
}

/// Creates the invited member's account and signs in.
pub(crate) async fn accept_invite(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    mut form: PageForm,
) -> Result<Response, PageError> {
    let password = form.take("password");
    let email = form.get("email").trim().to_owned();
    // The service checks the password before the invitation is used up.
    let outcome = accounts::accept_invite(&state, &code, &email, password).await;
    let errors = match outcome {
        Ok(account) => return signed_in(&state, &account, &headers, "/my-data?done=joined").await,
        Err(ServiceError::NotFound(Missing::Invitation)) => FieldErrors::one(
            "code",
            "This invitation link is wrong, already used or expired. Ask the person who invited you for a new one.",
        ),
        Err(ServiceError::Conflict(_)) => FieldErrors::one(
            "email",
            "An account with this e-mail address already exists.",
        ),
        Err(ServiceError::Invalid(Invalid::Profile(_))) => {
            FieldErrors::one("email", "Enter an e-mail address, like name@example.com.")
        }
        Err(e @ ServiceError::Invalid(Invalid::Password(_))) => {
            FieldErrors::one("password", message_of(&e))
        }
        Err(e) => return Err(e.into()),
    };
    let page = PageContext {
        error: errors
            .get("code")
            .map(str::to_owned)
            .or_else(|| errors.summary()),
        ..PageContext::default()
    };
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &InvitePage {
            page,
            action: format!("/invite/{}", urlencode(&code)),
            email,
            errors,
            password_hint: PASSWORD_HINT,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_words(1), "a second");
        assert_eq!(wait_words(40), "40 seconds");
        assert_eq!(wait_words(900), "15 minutes");
    }

    #[test]
    fn signup_errors_land_on_their_field() {
        use crate::service::error::Conflict;
        let e = ServiceError::from(Conflict::EmailTaken);
        assert!(signup_error(&e, "Home").is_some_and(|f| f.get("email").is_some()));
        let e = ServiceError::from(privet_policy::PasswordProblem::TooShort { min: 10 });
        assert!(signup_error(&e, "Home").is_some_and(|f| f.get("password").is_some()));
        let e = ServiceError::from(ProfileProblem::EmptyName);
        assert!(signup_error(&e, "").is_some_and(|f| f.get("household_name").is_some()));
        assert!(signup_error(&e, "Home").is_some_and(|f| f.get("name").is_some()));
        let e = ServiceError::from(ProfileProblem::BadEmail);
        assert!(signup_error(&e, "Home").is_some_and(|f| f.get("email").is_some()));
        let e = ServiceError::RateLimited { retry_after: 40 };
        assert!(
            signup_error(&e, "Home")
                .is_some_and(|f| f.get("email").is_some_and(|m| m.contains("40 seconds")))
        );
        assert!(signup_error(&ServiceError::Unavailable, "Home").is_none());
    }
}
