//! HTML form bodies and query strings with repeated keys (checkbox groups), and the checks
//! every POST passes: same origin, and the session's CSRF token.

use crate::error::ApiError;
use crate::pages::{PageError, csrf};
use crate::session::{self, SignedIn};
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;

/// A submitted `application/x-www-form-urlencoded` form, refused when cross-site.
#[derive(Default)]
pub(crate) struct PageForm(Vec<(String, String)>);

/// Names the fields but never shows their values (passwords, codes, names, e-mails).
impl std::fmt::Debug for PageForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl FromRequest<AppState> for PageForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        session::check_same_origin(req.method(), req.headers())?;
        let limit = state.config().max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                PageError::Api(ApiError::TooLarge { limit })
            } else {
                PageError::Api(ApiError::BadRequest(
                    "the form could not be read; reload the page and try again".to_owned(),
                ))
            }
        })?;
        Ok(PageForm::parse(&bytes))
    }
}

impl PageForm {
    /// Parses a form body or query string.
    pub(crate) fn parse(bytes: &[u8]) -> PageForm {
        PageForm(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of `name`, or `""`.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order (a group of checkboxes).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a checkbox named `name` was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A password field's value, moved out (never echoed back into a form).
    pub(crate) fn take(&mut self, name: &str) -> String {
        self.0
            .iter_mut()
            .find(|(k, _)| k == name)
            .map(|(_, v)| std::mem::take(v))
            .unwrap_or_default()
    }

    /// Refuses the form unless it carries the session's CSRF token.
    pub(crate) fn check_csrf(&self, state: &AppState, signed: &SignedIn) -> Result<(), PageError> {
        csrf::check(state, &signed.session, self.get("csrf"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_escapes_are_read() {
        let f = PageForm::parse(b"ids=a&ids=b%2Fc&name=Jo+Bloggs&on=");
        assert_eq!(f.all("ids").collect::<Vec<_>>(), ["a", "b/c"]);
        assert_eq!(f.get("name"), "Jo Bloggs");
        assert_eq!(f.get("missing"), "");
        assert!(f.checked("on"));
        assert!(!f.checked("off"));
    }

    #[test]
    fn a_taken_password_is_gone_from_the_form() {
        let mut f = PageForm::parse(b"password=secret+words");
        assert_eq!(f.take("password"), "secret words");
        assert_eq!(f.get("password"), "");
    }
}
