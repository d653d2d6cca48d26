//! Two-step verification: the password again, then the QR code and the secret as text, a code
//! to confirm, then the recovery codes (shown once); turning it off needs the password and a
//! code.

use super::form::PageForm;
use super::security::{password_error, with_error};
use super::{FieldErrors, message_of, see_other};
use crate::pages::{PageContext, PageError, PageSession, render, render_status};
use crate::service::error::{Invalid, ServiceError};
use crate::service::two_step::{self, Enrolment};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Template)]
#[template(path = "pages/household/two_step.html")]
struct SetupPage {
    page: PageContext,
    /// The QR code (inline SVG) and the secret in groups of four; `None` after a wrong code.
    enrolment: Option<(String, String)>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "pages/household/recovery_codes.html")]
struct CodesPage {
    page: PageContext,
    codes: Vec<String>,
}

/// "ABCDEFGH…" → "ABCD EFGH …", easier to type into an app.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The form field the password is entered again in, on both two-step forms.
pub(crate) const PASSWORD_FIELD: &str = "totp_password";

/// Starts set-up after the password is entered again: a new secret, shown as a QR code and
/// as text.
pub(crate) async fn begin(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    mut form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let password = Some(form.take(PASSWORD_FIELD));
    let Enrolment { secret, qr_svg, .. } = match two_step::begin(&state, &signed, password).await {
        Ok(e) => e,
        Err(ServiceError::Conflict(_)) => return Ok(see_other("/account/security#two-step")),
        Err(e) => return password_error(&state, &signed, PASSWORD_FIELD, e).await,
    };
    render(&SetupPage {
        page: PageContext::new(&state, Some(&signed)).await?,
        enrolment: Some((qr_svg, grouped(secret.expose()))),
        errors: FieldErrors::default(),
    })
}

/// Confirms with a code from the app: two-step verification is on; shows the recovery codes.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    match two_step::confirm(&state, &signed, form.get("code")).await {
        Ok(codes) => render(&CodesPage {
            page: PageContext::new(&state, Some(&signed)).await?,
            codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
        }),
        Err(e @ ServiceError::Invalid(_)) => {
            let errors = FieldErrors::one("code", message_of(&e));
            let mut page = PageContext::new(&state, Some(&signed)).await?;
            page.error = errors.summary();
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetupPage {
                    page,
                    enrolment: None,
                    errors,
                },
            )
        }
        Err(ServiceError::Conflict(_)) => Ok(see_other("/account/security#two-step")),
        Err(e) => Err(e.into()),
    }
}

/// Turns two-step verification off with the password and a current code.
pub(crate) async fn turn_off(
    State(state): State<AppState>,
    PageSession(signed): PageSession,
    mut form: PageForm,
) -> Result<Response, PageError> {
    form.check_csrf(&state, &signed)?;
    let password = Some(form.take(PASSWORD_FIELD));
    match two_step::disable(&state, &signed, form.get("off_code"), password).await {
        Ok(()) => Ok(see_other("/account/security?done=two-step-off")),
        Err(
            e @ (ServiceError::RateLimited { .. }
            | ServiceError::Invalid(Invalid::WrongCurrentPassword | Invalid::PasswordNeeded)),
        ) => password_error(&state, &signed, PASSWORD_FIELD, e).await,
        Err(e @ ServiceError::Invalid(_)) => {
            with_error(
                &state,
                &signed,
                FieldErrors::one("off_code", message_of(&e)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_shown_in_groups_of_four() {
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
