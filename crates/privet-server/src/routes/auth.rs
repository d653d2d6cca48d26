//! `/v1/auth/*`: sign-up, sign-in, sessions, passwords, two-step verification, invitations.

use crate::client_cookie;
use crate::error::ApiResult;
use crate::service::accounts;
use crate::service::sign_in::{self, Attempt};
use crate::service::two_step::{self, Enrolment};
use crate::session::{self, ClientIp, SignedIn};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/auth/signup`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    /// E-mail address (the sign-in name).
    pub email: String,
    /// Password: at least 10 characters and hard to guess; any characters, spaces included.
    pub password: String,
    /// The household's name.
    pub household_name: String,
    /// Your name (defaults to the e-mail's first part).
    pub name: Option<String>,
}

/// Body of `POST /v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Two-step code from the authenticator app, or a recovery code.
    pub totp: Option<String>,
}

/// The signed-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account id.
    pub account: String,
    /// `member` or `staff`.
    pub kind: String,
    /// E-mail.
    pub email: String,
    /// Household id (members).
    pub household: Option<String>,
    /// Member id (members).
    pub member: Option<String>,
    /// Whether the member owns the household.
    pub owner: bool,
    /// Staff role.
    pub role: Option<String>,
    /// Whether two-step verification is on.
    pub two_step: bool,
}

/// A session in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Id (to sign it out).
    pub id: String,
    /// Browser, coarsely.
    pub client: String,
    /// Signed in at.
    pub created_at: Timestamp,
    /// Last active.
    pub last_seen: Timestamp,
    /// Ends at the latest.
    pub expires_at: Timestamp,
    /// Whether it is the one making this request.
    pub current: bool,
}

/// Body of `POST /v1/auth/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current: String,
    /// The new password.
    pub new: String,
}

/// An authenticator enrolment.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret (base32), for apps that cannot scan.
    pub secret: String,
    /// The `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
}

/// Body with a two-step code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The 6-digit code from the authenticator app.
    pub code: String,
}

/// Body of `POST /v1/auth/totp`: the password again, so a stolen session cannot enrol an
/// authenticator of its own.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reenter {
    /// The account's password. Missing or wrong: 422, counted as a failed attempt (repeated
    /// failures meet 429 with Retry-After).
    pub password: Option<String>,
}

/// Body of `POST /v1/auth/totp/disable` (and `DELETE /v1/auth/totp`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TurnOff {
    /// A fresh 6-digit code from the authenticator app.
    pub code: String,
    /// The account's password. Missing or wrong: 422, counted as a failed attempt.
    pub password: Option<String>,
}

/// Recovery codes, shown once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes; each signs in once if the phone is lost.
    pub recovery_codes: Vec<String>,
}

/// Body of `POST /v1/auth/accept-invite`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    /// The invitation code.
    pub code: String,
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A security event of the account.
#[derive(Serialize, ToSchema)]
pub struct SecurityEvent {
    /// When.
    pub at: Timestamp,
    /// What (`auth.login`, `auth.password_changed`, `auth.two_step_on`, …).
    pub event: String,
    /// Ids and counts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Bodies that hold a password, a code, a name or an e-mail never show them.
macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )*};
}
redacted_debug!(
    Signup,
    Login,
    PasswordChange,
    Code,
    Reenter,
    TurnOff,
    AcceptInvite
);

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_sessions, sign_out_everywhere))
        .routes(routes!(sign_out_session))
        .routes(routes!(change_password))
        .routes(routes!(totp_begin, totp_disable))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_turn_off))
        .routes(routes!(accept_invite))
        .routes(routes!(security_events))
}

/// Answers with the account and sets the session cookie, and a new known-client token
/// (`client_cookie`) so this client keeps its own sign-in allowance.
pub(crate) async fn signed_in_response(
    state: &AppState,
    account: &privet_store::Account,
    headers: &HeaderMap,
    status: StatusCode,
) -> ApiResult<Response> {
    let token = accounts::start_session(state, account, &session::client_label(headers)).await?;
    let me = me_of(state, account)?;
    let mut resp = (status, Json(me)).into_response();
    if let Some(c) = session::cookie(Some(token.expose()), state.config().cookie_secure()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    client_cookie::remember(state, account, &mut resp);
    Ok(resp)
}

fn me_of(state: &AppState, a: &privet_store::Account) -> ApiResult<Me> {
    Ok(Me {
        account: a.id.clone(),
        kind: match a.kind {
            privet_store::AccountKind::Member => "member",
            privet_store::AccountKind::Staff => "staff",
        }
        .to_owned(),
        email: accounts::email_of(state, a)?,
        household: a.household.as_ref().map(|h| h.to_string()),
        member: a.member.as_ref().map(|m| m.to_string()),
        owner: a.owner,
        role: a.role.map(|r| r.as_str().to_owned()),
        two_step: a.totp_enabled,
    })
}

/// Creates a household, its owner and the owner's account, and signs in. An e-mail that has
/// an account answers 409; sign-ups from one address, taken or not, slow down after a few
/// (429 with Retry-After).
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = Signup,
    responses((status = 201, body = Me), (status = 409), (status = 422), (status = 429)))]
async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Json<Signup>, JsonRejection>,
) -> ApiResult<Response> {
    session::check_same_origin(&axum::http::Method::POST, &headers)?;
    let Json(b) = body?;
    let account = accounts::signup(
        &state,
        &b.email,
        b.password,
        &b.household_name,
        b.name.as_deref(),
        ip,
    )
    .await?;
    signed_in_response(&state, &account, &headers, StatusCode::CREATED).await
}

/// Signs in; with two-step verification on, `totp` must hold a current code or a recovery code.
/// Every failure answers the same, and repeated failures slow down (429 with Retry-After).
/// A success sets the `privet_client` cookie: a client that presents it again (as the cookie
/// or in the `Privet-Client` header) is slowed only by its own failures, never by failures
/// from elsewhere, so nobody can keep the owner out.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Login,
    params(("Privet-Client" = Option<String>, Header,
        description = "The known-client token from an earlier sign-in's `privet_client` cookie (for clients that do not keep cookies)")),
    responses((status = 200, body = Me), (status = 401), (status = 429)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Json<Login>, JsonRejection>,
) -> ApiResult<Response> {
    session::check_same_origin(&axum::http::Method::POST, &headers)?;
    let Json(b) = body?;
    let known_client = client_cookie::presented(&headers);
    let from = Attempt {
        ip,
        known_client: known_client.as_deref(),
    };
    let account = sign_in::login(&state, &b.email, b.password, b.totp.as_deref(), from).await?;
    signed_in_response(&state, &account, &headers, StatusCode::OK).await
}

/// Signs out of this session.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401)),
    security(("session" = [])))]
async fn logout(State(state): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    accounts::logout(&state, &signed).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(c) = session::cookie(None, state.config().cookie_secure()) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// The signed-in account, its household and member.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401)),
    security(("session" = [])))]
async fn me(State(state): State<AppState>, signed: SignedIn) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, &signed.account)?))
}

/// The account's active sessions.
#[utoipa::path(get, path = "/v1/auth/sessions", tag = "auth", responses((status = 200, body = Vec<SessionView>), (status = 401)),
    security(("session" = [])))]
async fn list_sessions(
    State(state): State<AppState>,
    signed: SignedIn,
) -> ApiResult<Json<Vec<SessionView>>> {
    let list = accounts::sessions(&state, &signed).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionView {
                current: s.id == signed.session.id,
                id: s.id,
                client: s.client,
                created_at: s.created_at,
                last_seen: s.last_seen,
                expires_at: s.expires_at,
            })
            .collect(),
    ))
}

/// Signs out everywhere else (this session stays).
#[utoipa::path(delete, path = "/v1/auth/sessions", tag = "auth", responses((status = 200), (status = 401)),
    security(("session" = [])))]
async fn sign_out_everywhere(
    State(state): State<AppState>,
    signed: SignedIn,
) -> ApiResult<Json<serde_json::Value>> {
    let n = accounts::sign_out_elsewhere(&state, &signed).await?;
    Ok(Json(serde_json::json!({"signed_out": n})))
}

/// Signs out one session.
#[utoipa::path(delete, path = "/v1/auth/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "Session id")), responses((status = 204), (status = 401), (status = 404)),
    security(("session" = [])))]
async fn sign_out_session(
    State(state): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts::sign_out_session(&state, &signed, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the password; every other session is signed out, and known-client tokens issued
/// before are retired (this client gets a new one). A wrong current password is a failed
/// attempt: repeated ones meet 429 with Retry-After.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 200), (status = 401), (status = 422), (status = 429)),
    security(("session" = [])))]
async fn change_password(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Result<Json<PasswordChange>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    let changed = accounts::change_password(&state, &signed, b.current, b.new).await?;
    let mut resp =
        Json(serde_json::json!({"other_sessions_signed_out": changed.signed_out})).into_response();
    client_cookie::remember(&state, &changed.account, &mut resp);
    Ok(resp)
}

/// Starts setting up two-step verification: a secret, its `otpauth://` URI and a QR code.
/// Needs the password again (`{"password"}`): missing or wrong answers 422 and counts as a
/// failed attempt (repeated ones meet 429 with Retry-After).
#[utoipa::path(post, path = "/v1/auth/totp", tag = "auth", request_body = Reenter,
    responses((status = 200, body = TotpEnrolment), (status = 401), (status = 409), (status = 422), (status = 429)),
    security(("session" = [])))]
async fn totp_begin(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Result<Option<Json<Reenter>>, JsonRejection>,
) -> ApiResult<Json<TotpEnrolment>> {
    let b = body?.map(|Json(b)| b).unwrap_or_default();
    let Enrolment {
        secret,
        uri,
        qr_svg,
    } = two_step::begin(&state, &signed, b.password).await?;
    Ok(Json(TotpEnrolment {
        secret: secret.expose().to_owned(),
        otpauth_uri: uri.expose().to_owned(),
        qr_svg,
    }))
}

/// Confirms the app with a code: two-step verification is on; returns 10 recovery codes once.
#[utoipa::path(post, path = "/v1/auth/totp/confirm", tag = "auth", request_body = Code,
    responses((status = 200, body = RecoveryCodes), (status = 401), (status = 409), (status = 422)),
    security(("session" = [])))]
async fn totp_confirm(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Result<Json<Code>, JsonRejection>,
) -> ApiResult<Json<RecoveryCodes>> {
    let Json(b) = body?;
    let codes = two_step::confirm(&state, &signed, &b.code).await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
    }))
}

/// Turns two-step verification off; needs the password again and a fresh code. The same as
/// `POST /v1/auth/totp/disable`, kept for clients written before it.
#[utoipa::path(delete, path = "/v1/auth/totp", tag = "auth", request_body = TurnOff,
    responses((status = 204), (status = 401), (status = 403), (status = 409), (status = 422), (status = 429)),
    security(("session" = [])))]
async fn totp_disable(
    state: State<AppState>,
    signed: SignedIn,
    body: Result<Json<TurnOff>, JsonRejection>,
) -> ApiResult<StatusCode> {
    turn_off(state, signed, body).await
}

/// Turns two-step verification off; needs the password again and a fresh code. A missing or
/// wrong password answers 422 and counts as a failed attempt (repeated ones meet 429).
#[utoipa::path(post, path = "/v1/auth/totp/disable", tag = "auth", request_body = TurnOff,
    responses((status = 204), (status = 401), (status = 403), (status = 409), (status = 422), (status = 429)),
    security(("session" = [])))]
async fn totp_turn_off(
    state: State<AppState>,
    signed: SignedIn,
    body: Result<Json<TurnOff>, JsonRejection>,
) -> ApiResult<StatusCode> {
    turn_off(state, signed, body).await
}

async fn turn_off(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Result<Json<TurnOff>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(b) = body?;
    two_step::disable(&state, &signed, &b.code, b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a member's account from a household invitation, and signs in.
#[utoipa::path(post, path = "/v1/auth/accept-invite", tag = "auth", request_body = AcceptInvite,
    responses((status = 201, body = Me), (status = 404), (status = 409), (status = 422)))]
async fn accept_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<AcceptInvite>, JsonRejection>,
) -> ApiResult<Response> {
    session::check_same_origin(&axum::http::Method::POST, &headers)?;
    let Json(b) = body?;
    let account = accounts::accept_invite(&state, &b.code, &b.email, b.password).await?;
    signed_in_response(&state, &account, &headers, StatusCode::CREATED).await
}

/// The account's recent security events (sign-ins, password and two-step changes).
#[utoipa::path(get, path = "/v1/auth/events", tag = "auth", responses((status = 200, body = Vec<SecurityEvent>), (status = 401)),
    security(("session" = [])))]
async fn security_events(
    State(state): State<AppState>,
    signed: SignedIn,
) -> ApiResult<Json<Vec<SecurityEvent>>> {
    let entries = accounts::security_events(&state, &signed).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| SecurityEvent {
                at: e.entry.at,
                event: e.entry.action,
                detail: e.entry.detail,
            })
            .collect(),
    ))
}
