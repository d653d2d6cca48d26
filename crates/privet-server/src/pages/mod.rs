//! Server-rendered web pages (askama), usable without JavaScript: the household's pages and
//! the operator console. Each page module exposes `routes()`; this module holds what they
//! share: the page context (who is signed in, the CSRF token, a flash message), rendering,
//! and errors shown as pages.

pub mod console;
pub mod csrf;
pub mod household;
pub(crate) mod label;

use crate::error::ApiError;
use crate::session::{self, SignedIn};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use privet_store::AccountKind;

/// Who is signed in, as pages show it.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// Display name.
    pub name: String,
    /// Operator staff (sees the console).
    pub staff: bool,
    /// Household owner.
    pub owner: bool,
}

/// What every page's layout needs.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The signed-in user, if any.
    pub user: Option<PageUser>,
    /// The CSRF token for forms (empty when signed out).
    pub csrf: String,
    /// A confirmation to show.
    pub flash: Option<String>,
    /// An error to show.
    pub error: Option<String>,
}

/// The request's session, if any (pages that work signed out).
pub struct MaybeSignedIn(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        Ok(MaybeSignedIn(
            session::from_headers(state, &parts.headers).await?,
        ))
    }
}

/// A signed-in session; signed-out visitors are sent to the sign-in page and back.
pub struct PageSession(pub SignedIn);

impl FromRequestParts<AppState> for PageSession {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match session::from_headers(state, &parts.headers).await? {
            Some(s) => Ok(PageSession(s)),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                Err(PageError::SignIn(next.to_owned()))
            }
        }
    }
}

impl PageContext {
    /// The context for a (possibly) signed-in visitor.
    pub async fn new(
        state: &AppState,
        signed: Option<&SignedIn>,
    ) -> Result<PageContext, PageError> {
        let Some(s) = signed else {
            return Ok(PageContext::default());
        };
        let name = crate::service::accounts::display_name(state, &s.account).await?;
        Ok(PageContext {
            user: Some(PageUser {
                name,
                staff: s.account.kind == AccountKind::Staff,
                owner: s.account.owner,
            }),
            csrf: csrf::token(state, &s.session),
            flash: None,
            error: None,
        })
    }

    /// With a confirmation message.
    pub fn flash(mut self, msg: impl Into<String>) -> Self {
        self.flash = Some(msg.into());
        self
    }

    /// With an error message.
    pub fn error(mut self, msg: impl Into<String>) -> Self {
        self.error = Some(msg.into());
        self
    }
}

/// Renders a template as an HTML response.
pub fn render(t: &impl Template) -> Result<Response, PageError> {
    let html = t
        .render()
        .map_err(|e| PageError::Internal(format!("template: {e}")))?;
    Ok(Html(html).into_response())
}

/// Renders with a status other than 200 (e.g. 422 for a form with errors).
pub fn render_status(status: StatusCode, t: &impl Template) -> Result<Response, PageError> {
    let mut r = render(t)?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Template)]
#[template(path = "pages/message.html")]
struct Message<'a> {
    page: PageContext,
    heading: &'a str,
    text: &'a str,
    link: Option<&'a str>,
    link_text: &'a str,
}

/// A failure while serving a page; shown as a page, never as JSON.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then back to this path.
    SignIn(String),
    /// An API error, shown in words.
    Api(ApiError),
    /// Something broke on our side (logged, not shown).
    Internal(String),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<privet_store::Error> for PageError {
    fn from(e: privet_store::Error) -> Self {
        PageError::Api(e.into())
    }
}

impl From<crate::service::error::ServiceError> for PageError {
    fn from(e: crate::service::error::ServiceError) -> Self {
        PageError::Api(e.into())
    }
}

/// `next` if it is a local path, else `/` (no open redirects). Only visible ASCII: browsers
/// drop tabs and newlines from a URL, so `/\t/evil.example` would leave the site, and a control
/// character cannot go in a `Location` header at all.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
    {
        next
    } else {
        "/"
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, text) = match self {
            PageError::SignIn(next) => {
                let target = format!("/login?next={}", urlencode(safe_next(&next)));
                return Redirect::to(&target).into_response();
            }
            PageError::Api(e) => {
                let p = e.problem();
                e.log_if_internal("page failed");
                (
                    StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    p.title,
                    p.detail,
                )
            }
            PageError::Internal(cause) => {
                tracing::error!(cause = %cause, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong".to_owned(),
                    "Something went wrong on our side. It has been logged; please try again."
                        .to_owned(),
                )
            }
        };
        let page = Message {
            page: PageContext::default(),
            heading: &heading,
            text: &text,
            link: Some("/"),
            link_text: "Go to the start page",
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => (status, text).into_response(),
        }
    }
}

/// Percent-encodes a query value (unreserved characters pass through).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every page route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(household::routes())
        .merge(console::routes())
}

#[cfg(test)]
mod safe_next_tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_of_visible_ascii_are_followed() {
        for ok in ["/", "/my-data", "/console/requests?status=open"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/my data",
            "/\u{7f}",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
