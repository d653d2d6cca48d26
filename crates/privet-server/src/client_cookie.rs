//! The known-client token at the HTTP edge (`service::known_clients`): browsers keep it in the
//! `privet_client` cookie, set after every successful sign-in; apps may send it back in the
//! `Privet-Client` header instead. It survives signing out — it says "this client has signed
//! in here before", not "signed in now".

use crate::service::known_clients;
use crate::session;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use privet_store::Account;

/// The cookie's name.
pub const COOKIE: &str = "privet_client";
/// The request header an app may send the token in.
pub const HEADER: &str = "privet-client";

/// The token a request presents, unchecked: the header if there is one, else the cookie.
pub fn presented(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| session::cookie_named(headers, COOKIE))
}

/// The `Set-Cookie` value keeping `token`: HttpOnly, SameSite=Strict (only this site's own
/// sign-in forms and calls need it), Path=/, for the token's lifetime, Secure when asked.
pub fn cookie(token: &str, secure: bool) -> Option<HeaderValue> {
    let max_age = cookie::time::Duration::seconds(known_clients::LIFETIME.as_secs());
    let c = cookie::Cookie::build((COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(max_age);
    HeaderValue::from_str(&c.build().to_string()).ok()
}

/// Adds a new token for `account` to a response that signs a client in (or renews its
/// standing after a password change).
pub fn remember(state: &AppState, account: &Account, resp: &mut Response) {
    let token = known_clients::issue(state, account);
    if let Some(c) = cookie(token.expose(), state.config().cookie_secure()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_wins_over_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("privet_session=pvs_x; privet_client=from-cookie"),
        );
        assert_eq!(presented(&h).as_deref(), Some("from-cookie"));
        h.insert(HEADER, HeaderValue::from_static("from-header"));
        assert_eq!(presented(&h).as_deref(), Some("from-header"));
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_long_lived() {
        let c = cookie("pvt.x", true).map(|c| c.to_str().unwrap_or("").to_owned());
        let c = c.unwrap_or_default();
        assert!(c.starts_with("privet_client=pvt.x"), "{c}");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(c.contains("Max-Age=15552000"), "{c}");
    }
}
