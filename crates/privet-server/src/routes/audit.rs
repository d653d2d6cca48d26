//! `GET /v1/audit`: the hash-chained audit log, and `GET /v1/audit/head`: its newest entry
//! signed, for the DPO and admins.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::error::{Invalid, ServiceError};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use privet_store::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most entries one answer holds.
const MAX_LIMIT: usize = 10_000;

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries at or after (RFC 3339).
    pub since: Option<Timestamp>,
    /// Most entries (default 1000, at most 10000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
}

/// One audit entry: ids, pseudonyms and counts only.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// For which purpose.
    pub purpose: Option<String>,
    /// Subjects touched, by pseudonym.
    pub subjects: Vec<String>,
    /// How many records.
    pub count: u64,
    /// Further ids and counts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// This entry's hash (hex).
    pub hash: String,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            seq: e.seq,
            at: e.entry.at,
            actor: e.entry.actor,
            action: e.entry.action,
            purpose: e.entry.purpose,
            subjects: e.entry.subjects.iter().map(|p| p.to_string()).collect(),
            count: e.entry.count,
            detail: e.entry.detail,
            hash: e.hash.to_string(),
        }
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read_audit))
        .routes(routes!(audit_head))
}

/// The audit log's newest entry as a compact JWS (EdDSA, key in `/.well-known/jwks.json`)
/// whose payload is `{"typ":"privet-audit-head","seq":N,"hash":"<hex>","signed_at":"…"}`.
/// Keep it: `privet audit verify --head FILE` later shows whether the log still reaches and
/// extends it.
#[utoipa::path(get, path = "/v1/audit/head", tag = "audit",
    responses(
        (status = 200, description = "The signed head, a compact JWS", content_type = "application/jose", body = String),
        (status = 401), (status = 403)),
    security(("api_key" = [])))]
async fn audit_head(State(state): State<AppState>, op: Operator) -> ApiResult<Response> {
    op.permit(privet_policy::Action::ReadAudit)?;
    let jws = crate::service::audit::signed_head(&state).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jose"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jws,
    )
        .into_response())
}

/// Audit entries, oldest first.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Vec<AuditView>), (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("api_key" = [])))]
async fn read_audit(
    State(state): State<AppState>,
    op: Operator,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditView>>> {
    op.permit(privet_policy::Action::ReadAudit)?;
    let Query(p) = params?;
    let limit = match p.limit {
        None => 1_000,
        Some(0) => return Err(ServiceError::from(Invalid::ZeroLimit).into()),
        Some(n) if n > MAX_LIMIT => {
            return Err(ServiceError::from(Invalid::LimitTooLarge(MAX_LIMIT)).into());
        }
        Some(n) => n,
    };
    let entries = state.store().audit(p.since, limit).await?;
    Ok(Json(entries.into_iter().map(AuditView::from).collect()))
}
