//! Sessions: the cookie, its expiry (idle and absolute), server-side revocation, and the CSRF
//! check for cookie-authenticated changes.

use crate::error::{ApiError, ApiResult};
use crate::service::error::{Forbidden, ServiceResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{Secret, generate_token, hash_token, os_rng};
use privet_store::{Account, AccountKind, Session};

/// The session cookie's name.
pub const COOKIE: &str = "privet_session";
/// Prefix of session tokens.
pub const SESSION_PREFIX: &str = "pvs";

/// How long a session lasts without activity, and at most.
pub fn lifetimes(kind: AccountKind) -> (SignedDuration, SignedDuration) {
    match kind {
        // Staff reach everyone's data: short sessions.
        AccountKind::Staff => (
            SignedDuration::from_mins(30),
            SignedDuration::from_hours(12),
        ),
        AccountKind::Member => (
            SignedDuration::from_hours(24),
            SignedDuration::from_hours(24 * 30),
        ),
    }
}

/// A new session for `account`: the secret cookie value (shown once) and the stored record.
pub fn new_session(account: &Account, client: &str, now: Timestamp) -> (Secret, Session) {
    let token = generate_token(SESSION_PREFIX, &mut os_rng());
    let (_, absolute) = lifetimes(account.kind);
    let session = Session {
        id: crate::ids::new_id("ses"),
        id_hash: hash_token(token.expose()),
        account: account.id.clone(),
        created_at: now,
        last_seen: now,
        expires_at: now.checked_add(absolute).unwrap_or(Timestamp::MAX),
        client: client.to_owned(),
    };
    (token, session)
}

/// The `Set-Cookie` value for a session token (or for clearing it), built by the `cookie`
/// crate: HttpOnly, SameSite=Lax, Path=/, and Secure when asked.
pub fn cookie(token: Option<&str>, secure: bool) -> Option<HeaderValue> {
    let mut c = cookie::Cookie::build((COOKIE, token.unwrap_or("")))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure);
    if token.is_none() {
        c = c.max_age(cookie::time::Duration::ZERO);
    }
    HeaderValue::from_str(&c.build().to_string()).ok()
}

/// The value of the cookie `name`, parsed by the `cookie` crate from every `Cookie` header.
pub fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| cookie::Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session cookie's value.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// A coarse description of the browser, for the sessions list (never the full user agent).
pub fn client_label(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .iter()
        .find(|b| ua.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            "Safari/" => "Safari",
            _ => "curl",
        })
        .unwrap_or("A browser");
    let os = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"]
        .iter()
        .find(|o| ua.contains(*o))
        .map(|o| match *o {
            "Mac OS" => "macOS",
            other => other,
        });
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

/// Refuses cross-site changes made with the cookie: the Origin must be this server's, and
/// Fetch Metadata must not say cross-site. (Requests without either header come from
/// non-browser clients, which a cross-site page cannot make.)
pub fn check_same_origin(method: &Method, headers: &HeaderMap) -> ServiceResult<()> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(Forbidden::CrossSite.into());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        if origin == "null" || origin_host != host {
            return Err(Forbidden::CrossSite.into());
        }
    }
    Ok(())
}

/// A signed-in account, from a valid, unexpired, unrevoked session cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account.
    pub account: Account,
    /// The session.
    pub session: Session,
}

impl SignedIn {
    /// The actor string for audit entries: `account:<id>`.
    pub fn actor(&self) -> String {
        format!("account:{}", self.account.id)
    }

    /// Fails unless two-step verification is on: staff can do nothing until it is.
    pub fn require_verified(&self) -> ServiceResult<()> {
        if self.account.kind == AccountKind::Staff && !self.account.totp_enabled {
            return Err(Forbidden::StaffNeedTwoStep.into());
        }
        Ok(())
    }
}

/// Looks up and validates the session of a request, if it carries one.
pub async fn from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> ServiceResult<Option<SignedIn>> {
    let Some(token) = cookie_value(headers) else {
        return Ok(None);
    };
    if !token.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let hash = hash_token(&token);
    let session = match state.store().session(&hash).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let account = match state.store().account(&session.account).await {
        Ok(a) => a,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let now = state.clock().now();
    let (idle, _) = lifetimes(account.kind);
    let idle_until = session
        .last_seen
        .checked_add(idle)
        .unwrap_or(Timestamp::MAX);
    if now >= session.expires_at || now >= idle_until || !account.can_sign_in {
        let _ = state.store().delete_session(&account.id, &session.id).await;
        return Ok(None);
    }
    // Record activity at most once a minute: every request need not be a write.
    if now.duration_since(session.last_seen) > SignedDuration::from_secs(60) {
        state.store().touch_session(&hash, now).await?;
    }
    Ok(Some(SignedIn { account, session }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let signed = from_headers(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        check_same_origin(&parts.method, &parts.headers)?;
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(*k, v);
            }
        }
        h
    }

    #[test]
    fn cross_site_changes_are_refused_and_same_site_ones_pass() {
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check_same_origin(&Method::POST, &same).is_ok());
        let evil = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_same_origin(&Method::POST, &evil).is_err());
        assert!(
            check_same_origin(&Method::GET, &evil).is_ok(),
            "reads are not changes"
        );
        let fetch = headers(&[("host", "a"), ("sec-fetch-site", "cross-site")]);
        assert!(check_same_origin(&Method::DELETE, &fetch).is_err());
        assert!(
            check_same_origin(&Method::PUT, &headers(&[("host", "a")])).is_ok(),
            "non-browser client"
        );
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let c = cookie(Some("pvs_x"), true).unwrap();
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        let plain = cookie(Some("pvs_x"), false).unwrap();
        assert!(!plain.to_str().unwrap().contains("Secure"));
        let gone = cookie(None, false).unwrap();
        assert!(gone.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "theme=dark; privet_session=pvs_abc; other=\"x\"")]);
        assert_eq!(cookie_value(&h).as_deref(), Some("pvs_abc"));
        assert_eq!(
            cookie_value(&headers(&[("cookie", "privet_sessionx=1")])),
            None
        );
        assert_eq!(cookie_value(&HeaderMap::new()), None);
    }

    #[test]
    fn only_a_coarse_client_label_is_kept() {
        let h = headers(&[(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )]);
        assert_eq!(client_label(&h), "Firefox on Linux");
        assert_eq!(client_label(&HeaderMap::new()), "A browser");
    }
}

/// The client's address, when the server knows it (not behind `oneshot` in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        // Every line, in order: a proxy may append its own line after the client's. A line
        // that is not text is a malformed hop, where believing stops.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or("(not text)"))
            .collect();
        Ok(ClientIp(
            peer.map(|p| state.config().client_ip(p, &forwarded)),
        ))
    }
}
